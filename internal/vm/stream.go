package vm

import (
	"io"
	"os"
	"time"
)

// streamer copies what the guest appends to a file of the run directory
// to w while the VM runs. The guest writes through 9p straight into the
// host's file, so polling it is enough; the last copy happens after qemu
// has exited, so nothing written before power-off is lost.
type streamer struct {
	path    string
	w       io.Writer
	stop    chan struct{}
	done    chan struct{}
	stopped chan struct{}
}

// pollEvery is how often the output file is read while the guest runs.
const pollEvery = 100 * time.Millisecond

func newStreamer(path string, w io.Writer) *streamer {
	s := &streamer{path: path, w: w, stop: make(chan struct{}), done: make(chan struct{}), stopped: make(chan struct{})}
	go s.loop()
	return s
}

func (s *streamer) loop() {
	defer close(s.stopped)
	f, err := os.Open(s.path)
	if err != nil {
		close(s.done)
		return
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	drain := func() {
		for {
			n, err := f.Read(buf)
			if n > 0 {
				s.w.Write(buf[:n])
			}
			if err != nil || n == 0 {
				return
			}
		}
	}
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			drain()
			close(s.done)
			return
		case <-t.C:
			drain()
		}
	}
}

// finish copies what is left and waits for the copy to end.
func (s *streamer) finish() {
	close(s.stop)
	<-s.stopped
}
