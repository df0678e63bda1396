// SPDX-License-Identifier: LGPL-2.1-or-later
//
// plain.go - a Go target for test-go.sh, built both without cgo (a static
// binary) and with it (dynamically linked, so the helper loads):
//
//	target [block]
//
// Four goroutines sleep in a loop.  With "block", one of them, locked to
// its thread, blocks signal SIGRTMAX-1 (the helper's) with the raw
// rt_sigprocmask system call, as the Go runtime does with its own masks.
// Prints "ready PID" and "blocker TID" (with block); exits by itself after
// 120 seconds.
package main

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

func main() {
	block := len(os.Args) > 1 && os.Args[1] == "block"
	tid := make(chan int)
	for i := 0; i < 4; i++ {
		go func(first bool) {
			if first && block {
				runtime.LockOSThread()
				set := uint64(1) << (64 - 2) // SIGRTMAX-1 is 63
				syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK,
					0 /* SIG_BLOCK */, uintptr(unsafe.Pointer(&set)),
					0, 8, 0, 0)
				tid <- syscall.Gettid()
			}
			for {
				time.Sleep(10 * time.Millisecond)
			}
		}(i == 0)
	}
	fmt.Printf("ready %d\n", os.Getpid())
	if block {
		fmt.Printf("blocker %d\n", <-tid)
	}
	time.Sleep(120 * time.Second)
}
