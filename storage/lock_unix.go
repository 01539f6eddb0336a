//go:build unix

package storage

import (
	"io/fs"
	"os"
	"syscall"
)

// flock takes an flock(2) lock on f, waiting for it; closing f releases it.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

// inode is the inode number of the file fi describes.
func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
