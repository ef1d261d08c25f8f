package main

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// storeMessage is the notify datagram that puts fd in systemd's fd store
// under name: the text, and the SCM_RIGHTS control message carrying fd
// (sd_pid_notify_with_fds does the same in C; go-systemd v22.7.0 has no
// fd-passing notify).
func storeMessage(name string, fd int) (msg, oob []byte) {
	return []byte("FDSTORE=1\nFDNAME=" + name), unix.UnixRights(fd)
}

// storeListener sends ln's socket to $NOTIFY_SOCKET. The kernel installs
// a duplicate in systemd; ln stays ours. It reports false when there is
// no NOTIFY_SOCKET (not run by systemd).
func storeListener(ln *net.TCPListener, name string) (bool, error) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return false, nil
	}
	// An unconnected datagram socket and sendmsg: net's UnixConn refuses
	// a control message on a connected datagram socket.
	s, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	defer unix.Close(s)
	raw, err := ln.SyscallConn()
	if err != nil {
		return false, err
	}
	var sendErr error
	err = raw.Control(func(fd uintptr) {
		msg, oob := storeMessage(name, int(fd))
		// x/sys/unix turns a leading @ into an abstract address.
		sendErr = unix.Sendmsg(s, msg, oob, &unix.SockaddrUnix{Name: path}, 0)
	})
	if err == nil {
		err = sendErr
	}
	if err != nil {
		return false, fmt.Errorf("send FDSTORE=1 to %s: %w", path, err)
	}
	return true, nil
}
