package timerq

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func TestOrderResetStop(t *testing.T) {
	q := New[string](nil)
	var a, b, c ID
	q.Set(&a, at(10), "a")
	q.Set(&b, at(5), "b")
	q.Set(&c, at(7), "c")
	if a == 0 || b == 0 || c == 0 || a == b || b == c {
		t.Fatalf("ids %d %d %d", a, b, c)
	}
	if n, _ := q.Next(); !n.Equal(at(5)) {
		t.Fatalf("Next = %v", n)
	}
	// Moving a timer keeps its ID.
	oldA := a
	q.Set(&a, at(1), "a")
	if a != oldA {
		t.Fatalf("Set on a pending timer changed its ID %d -> %d", oldA, a)
	}
	q.Stop(&c)
	if c != 0 || q.Len() != 2 {
		t.Fatalf("after Stop: c=%d len=%d", c, q.Len())
	}
	if _, _, ok := q.Pop(at(0.5)); ok {
		t.Fatal("popped a timer before its deadline")
	}
	var got []string
	for {
		_, v, ok := q.Pop(at(100))
		if !ok {
			break
		}
		got = append(got, v)
	}
	if len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("fired %v, want [a b]", got)
	}
	if rem := q.Remaining(a, at(0)); rem != 0 {
		t.Fatalf("Remaining of a fired timer = %v", rem)
	}
}

// IDs are shared between queues and reused, so they stay small and unique.
func TestIDsSharedAndReused(t *testing.T) {
	var ids IDs
	q1, q2 := New[int](&ids), New[int](&ids)
	var x, y, z ID
	q1.Set(&x, at(1), 1)
	q2.Set(&y, at(1), 2)
	if x == y {
		t.Fatal("two queues issued the same ID")
	}
	q1.Stop(&x)
	q2.Set(&z, at(2), 3)
	if z != 1 {
		t.Fatalf("freed ID not reused: got %d", z)
	}
}

// A random workload agrees with a sorted-slice model.
func TestRandomAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	q := New[int](nil)
	ids := make([]ID, 200)
	model := map[int]time.Time{}
	for step := 0; step < 20000; step++ {
		k := r.IntN(len(ids))
		switch r.IntN(3) {
		case 0, 1:
			d := at(float64(r.IntN(1000)))
			q.Set(&ids[k], d, k)
			model[k] = d
		case 2:
			q.Stop(&ids[k])
			delete(model, k)
		}
		if step%500 == 0 {
			now := at(float64(r.IntN(1000)))
			var want []int
			for k, d := range model {
				if !d.After(now) {
					want = append(want, k)
				}
			}
			var got []int
			var last time.Time
			for {
				id, v, ok := q.Pop(now)
				if !ok {
					break
				}
				if id != ids[v] {
					t.Fatalf("popped id %d for key %d holding %d", id, v, ids[v])
				}
				d := model[v]
				if d.Before(last) {
					t.Fatalf("out of order")
				}
				last = d
				ids[v] = 0
				delete(model, v)
				got = append(got, v)
			}
			sort.Ints(want)
			sort.Ints(got)
			if len(got) != len(want) {
				t.Fatalf("step %d: fired %d timers, model says %d", step, len(got), len(want))
			}
		}
		if q.Len() != len(model) {
			t.Fatalf("step %d: len %d, model %d", step, q.Len(), len(model))
		}
	}
	all := q.All()
	for i := 1; i < len(all); i++ {
		if all[i].At.Before(all[i-1].At) {
			t.Fatal("All not sorted")
		}
	}
}

func BenchmarkSetReset(b *testing.B) {
	q := New[int](nil)
	ids := make([]ID, 100000)
	for i := range ids {
		q.Set(&ids[i], at(float64(i%997)), i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(ids)
		q.Set(&ids[k], at(float64((i*7)%1000)), k)
	}
}

// Two queues that share IDs, popped by Peek and Earlier, fire in the
// order of one queue holding every timer.
func TestPeekMergesQueues(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var ids IDs
	one := New[int](new(IDs))
	qs := [2]*Queue[int]{New[int](&ids), New[int](&ids)}
	var oneIDs, twoIDs []ID
	for i := range 200 {
		d := at(float64(r.IntN(20)))
		var a, b ID
		one.Set(&a, d, i)
		qs[r.IntN(2)].Set(&b, d, i)
		oneIDs, twoIDs = append(oneIDs, a), append(twoIDs, b)
	}
	if !slices.Equal(oneIDs, twoIDs) {
		t.Fatal("shared IDs differ from one queue's")
	}
	for {
		wid, wv, wok := one.Pop(at(15))
		pick := -1
		var bestID ID
		var bestAt time.Time
		for i, q := range qs {
			if id, d, ok := q.Peek(); ok && !d.After(at(15)) && (pick < 0 || Earlier(d, id, bestAt, bestID)) {
				pick, bestID, bestAt = i, id, d
			}
		}
		if !wok {
			if pick >= 0 {
				t.Fatalf("merged queues fire timer %d after one queue ran out", bestID)
			}
			break
		}
		if pick < 0 {
			t.Fatalf("merged queues have nothing where one queue fires %d", wid)
		}
		id, v, _ := qs[pick].Pop(at(15))
		if id != wid || v != wv {
			t.Fatalf("merged queues fire %d (%d), one queue %d (%d)", id, v, wid, wv)
		}
	}
	if _, _, ok := New[int](nil).Peek(); ok {
		t.Error("Peek of an empty queue")
	}
}

// TestIDsIndependentOfReleaseOrder: the IDs handed out after some were
// released do not depend on the order of the releases (an engine may stop
// timers while walking a map): the smallest free one comes first.
func TestIDsIndependentOfReleaseOrder(t *testing.T) {
	orders := [][]ID{{3, 7, 1, 5, 2}, {5, 2, 7, 3, 1}, {1, 2, 3, 5, 7}, {7, 5, 3, 2, 1}}
	for _, order := range orders {
		var a IDs
		for range 8 {
			a.alloc()
		}
		for _, id := range order {
			a.release(id)
		}
		var got []ID
		for range 6 {
			got = append(got, a.alloc())
		}
		if want := []ID{1, 2, 3, 5, 7, 9}; !slices.Equal(got, want) {
			t.Errorf("released %v: allocated %v, want %v", order, got, want)
		}
	}
}
