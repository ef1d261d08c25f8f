//go:build !(linux && (amd64 || arm64))

package load

// eventLoop needs Linux's epoll (and is built for amd64 and arm64);
// elsewhere the goroutine engine runs.
type eventLoop struct{}

func newEventLoop(*Run) *eventLoop { return nil }

func (*eventLoop) run() {}
