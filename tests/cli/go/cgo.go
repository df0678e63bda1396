// SPDX-License-Identifier: LGPL-2.1-or-later
//
// cgo.go - with plain.go, the same target built with cgo: this file only
// makes the binary use cgo (and so the C library and its dynamic loader).
package main

// #include <unistd.h>
import "C"

var _ = C.getpid
