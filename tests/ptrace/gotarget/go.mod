module allthreads.test/gotarget

go 1.19
