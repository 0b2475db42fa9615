package probes

import (
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// childCopyBound limits waitChildCopies: a child finishes its exec in
// microseconds unless descheduled.
const childCopyBound = 2 * time.Second

// waitChildCopies waits, within childCopyBound, until no child process of
// ours holds the socket fd refers to: a child between vfork and the end of
// its exec still has a copy of our descriptor table. Children are read from
// /proc/self/task/TID/children, their descriptors from /proc/PID/fd, where a
// socket reads "socket:[INODE]" (proc(5)).
func waitChildCopies(fd int) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return
	}
	link := fmt.Sprintf("socket:[%d]", st.Ino)
	deadline := time.Now().Add(childCopyBound)
	for childHolds(link) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Microsecond)
	}
}

func childHolds(link string) bool {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return false
	}
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		if err != nil {
			continue
		}
		for _, pid := range strings.Fields(string(b)) {
			fds, err := os.ReadDir("/proc/" + pid + "/fd")
			if err != nil {
				continue // gone, or not ours to read
			}
			for _, fd := range fds {
				if l, err := os.Readlink("/proc/" + pid + "/fd/" + fd.Name()); err == nil && l == link {
					return true
				}
			}
		}
	}
	return false
}
