// SPDX-License-Identifier: LGPL-2.1-or-later

// gotarget: a Go program for the ptrace route's tests, started WITHOUT the
// helper.  Goroutines locked to their own OS threads block in read(2) on
// pipes and in nanosleep; with cgo, more block in read(2) inside C.  The
// Go runtime blocks signals with the raw syscall, so the helper's signal
// cannot reach every thread: ptrace is the only way in.
//
// Prints "ready PID THREADS", then answers commands on stdin:
//
//	ping     "pong"
//	release  writes every pipe, waits for the readers; prints
//	         "released OK BAD" (OK readers got exactly their byte)
//	quit     exits
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

type reader struct {
	r, w int
	want byte
	ok   bool
	why  string
}

func blockInRead(rd *reader, wg *sync.WaitGroup, started chan<- struct{}) {
	defer wg.Done()
	runtime.LockOSThread()
	started <- struct{}{}
	buf := make([]byte, 1)
	for i := 0; i < 100; i++ {
		n, err := syscall.Read(rd.r, buf)
		if err == syscall.EINTR {
			rd.why = "EINTR"
			break
		}
		if err != nil || n != 1 {
			rd.why = fmt.Sprintf("read %d %v", n, err)
			break
		}
		rd.ok = buf[0] == rd.want
		if !rd.ok {
			rd.why = fmt.Sprintf("byte %q", buf[0])
		}
		break
	}
}

func main() {
	const nGo = 6
	var wg sync.WaitGroup
	started := make(chan struct{}, 64)
	var readers []*reader
	for i := 0; i < nGo+nC; i++ {
		var p [2]int
		if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
			fmt.Fprintln(os.Stderr, "gotarget: pipe:", err)
			os.Exit(1)
		}
		readers = append(readers, &reader{r: p[0], w: p[1], want: byte('a' + i)})
	}
	for i := 0; i < nGo; i++ {
		wg.Add(1)
		go blockInRead(readers[i], &wg, started)
	}
	for i := 0; i < nC; i++ {
		wg.Add(1)
		go cBlockInRead(readers[nGo+i], &wg, started)
	}
	// sleepers, each on its own thread
	stop := make(chan struct{})
	for i := 0; i < 2; i++ {
		go func() {
			runtime.LockOSThread()
			started <- struct{}{}
			for {
				select {
				case <-stop:
					return
				default:
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	for i := 0; i < nGo+nC+2; i++ {
		select {
		case <-started:
		case <-time.After(20 * time.Second):
			fmt.Fprintln(os.Stderr, "gotarget: threads did not start")
			os.Exit(1)
		}
	}
	time.Sleep(50 * time.Millisecond)
	go func() {
		time.Sleep(60 * time.Second)
		fmt.Fprintln(os.Stderr, "gotarget: timeout")
		os.Exit(3)
	}()
	ents, _ := os.ReadDir("/proc/self/task")
	fmt.Printf("ready %d %d\n", os.Getpid(), len(ents))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch strings.TrimSpace(in.Text()) {
		case "ping":
			fmt.Println("pong")
		case "release":
			for _, rd := range readers {
				syscall.Write(rd.w, []byte{rd.want})
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
			}
			ok, bad := 0, 0
			for i, rd := range readers {
				if rd.ok {
					ok++
				} else {
					bad++
					fmt.Printf("bad reader %d: %s\n", i, rd.why)
				}
			}
			close(stop)
			fmt.Printf("released %d %d\n", ok, bad)
		case "quit":
			os.Exit(0)
		}
	}
}
