// SPDX-License-Identifier: LGPL-2.1-or-later

//go:build cgo

package main

// #include <unistd.h>
// static int c_read_one(int fd, char *c) { return (int)read(fd, c, 1); }
import "C"

import (
	"fmt"
	"runtime"
	"sync"
)

// With cgo: two more readers, blocked in read(2) inside C.
const nC = 2

func cBlockInRead(rd *reader, wg *sync.WaitGroup, started chan<- struct{}) {
	defer wg.Done()
	runtime.LockOSThread()
	started <- struct{}{}
	var c C.char
	n := C.c_read_one(C.int(rd.r), &c)
	rd.ok = n == 1 && byte(c) == rd.want
	if !rd.ok {
		rd.why = fmt.Sprintf("C read returned %d", int(n))
	}
}
