package probes

import "os"

// wrap names the failing call in the style of the os package
// (os.NewSyscallError); errors.Is still sees the errno underneath.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return os.NewSyscallError(op, err)
}
