package probes

import (
	"errors"
	"strconv"

	"github.com/closematrix/closematrix/schema"
	"golang.org/x/sys/windows"
)

// classes maps Winsock errors to the class vocabulary. Keys are x/sys
// constants (winerror.h values).
//
// Winsock has no EPIPE: a send on a connection that is gone fails with
// WSAECONNRESET, WSAECONNABORTED or WSAESHUTDOWN, so broken-pipe never occurs
// here. WSAEDISCON (10101) stays other: Microsoft documents it for
// message-oriented protocols only (WSARecv: "the remote party has initiated a
// graceful shutdown sequence"); TCP reports the end of stream as a 0-byte
// recv, which is what eof means. Should TCP ever return it, that is a finding
// to show, not to fold into eof. Win32 codes other than ERROR_INVALID_HANDLE
// (ERROR_NETNAME_DELETED, ERROR_CONNECTION_ABORTED, …) are what overlapped
// I/O reports; the blocking calls used here get the WSAE codes, so they stay
// other with their own names.
var classes = map[windows.Errno]schema.Class{
	windows.WSAECONNRESET:        schema.ClassReset,
	windows.WSAECONNABORTED:      schema.ClassAborted,
	windows.WSAESHUTDOWN:         schema.ClassShutdown,
	windows.WSAENOTCONN:          schema.ClassNotConnected,
	windows.WSAENOTSOCK:          schema.ClassNotSocket,
	windows.WSAEBADF:             schema.ClassBadDescriptor,
	windows.ERROR_INVALID_HANDLE: schema.ClassBadDescriptor,
	windows.WSAEINTR:             schema.ClassInterrupted,
	windows.WSAETIMEDOUT:         schema.ClassTimedOut,
	windows.WSAENETUNREACH:       schema.ClassUnreachable,
	windows.WSAEHOSTUNREACH:      schema.ClassUnreachable,
	windows.WSAEWOULDBLOCK:       schema.ClassWouldBlock,
}

// errnoNames gives each code its Windows SDK name. x/sys defines the values
// but has no name lookup (syscall.Errno.Error returns FormatMessage text,
// which is localised and never used here). The WSA* entries are the
// winsock2.h / winerror.h names of "Windows Sockets Error Codes"
// (learn.microsoft.com); the ERROR_* entries are winerror.h names of Win32
// codes that socket calls can surface (winsock2.h aliases several of them as
// WSA_INVALID_HANDLE, WSA_IO_PENDING, …; the winerror.h name is used).
var errnoNames = map[windows.Errno]string{
	windows.WSAEINTR:               "WSAEINTR",
	windows.WSAEBADF:               "WSAEBADF",
	windows.WSAEACCES:              "WSAEACCES",
	windows.WSAEFAULT:              "WSAEFAULT",
	windows.WSAEINVAL:              "WSAEINVAL",
	windows.WSAEMFILE:              "WSAEMFILE",
	windows.WSAEWOULDBLOCK:         "WSAEWOULDBLOCK",
	windows.WSAEINPROGRESS:         "WSAEINPROGRESS",
	windows.WSAEALREADY:            "WSAEALREADY",
	windows.WSAENOTSOCK:            "WSAENOTSOCK",
	windows.WSAEDESTADDRREQ:        "WSAEDESTADDRREQ",
	windows.WSAEMSGSIZE:            "WSAEMSGSIZE",
	windows.WSAEPROTOTYPE:          "WSAEPROTOTYPE",
	windows.WSAENOPROTOOPT:         "WSAENOPROTOOPT",
	windows.WSAEPROTONOSUPPORT:     "WSAEPROTONOSUPPORT",
	windows.WSAESOCKTNOSUPPORT:     "WSAESOCKTNOSUPPORT",
	windows.WSAEOPNOTSUPP:          "WSAEOPNOTSUPP",
	windows.WSAEPFNOSUPPORT:        "WSAEPFNOSUPPORT",
	windows.WSAEAFNOSUPPORT:        "WSAEAFNOSUPPORT",
	windows.WSAEADDRINUSE:          "WSAEADDRINUSE",
	windows.WSAEADDRNOTAVAIL:       "WSAEADDRNOTAVAIL",
	windows.WSAENETDOWN:            "WSAENETDOWN",
	windows.WSAENETUNREACH:         "WSAENETUNREACH",
	windows.WSAENETRESET:           "WSAENETRESET",
	windows.WSAECONNABORTED:        "WSAECONNABORTED",
	windows.WSAECONNRESET:          "WSAECONNRESET",
	windows.WSAENOBUFS:             "WSAENOBUFS",
	windows.WSAEISCONN:             "WSAEISCONN",
	windows.WSAENOTCONN:            "WSAENOTCONN",
	windows.WSAESHUTDOWN:           "WSAESHUTDOWN",
	windows.WSAETOOMANYREFS:        "WSAETOOMANYREFS",
	windows.WSAETIMEDOUT:           "WSAETIMEDOUT",
	windows.WSAECONNREFUSED:        "WSAECONNREFUSED",
	windows.WSAELOOP:               "WSAELOOP",
	windows.WSAENAMETOOLONG:        "WSAENAMETOOLONG",
	windows.WSAEHOSTDOWN:           "WSAEHOSTDOWN",
	windows.WSAEHOSTUNREACH:        "WSAEHOSTUNREACH",
	windows.WSAENOTEMPTY:           "WSAENOTEMPTY",
	windows.WSAEPROCLIM:            "WSAEPROCLIM",
	windows.WSAEUSERS:              "WSAEUSERS",
	windows.WSAEDQUOT:              "WSAEDQUOT",
	windows.WSAESTALE:              "WSAESTALE",
	windows.WSAEREMOTE:             "WSAEREMOTE",
	windows.WSASYSNOTREADY:         "WSASYSNOTREADY",
	windows.WSAVERNOTSUPPORTED:     "WSAVERNOTSUPPORTED",
	windows.WSANOTINITIALISED:      "WSANOTINITIALISED",
	windows.WSAEDISCON:             "WSAEDISCON",
	windows.WSAENOMORE:             "WSAENOMORE",
	windows.WSAECANCELLED:          "WSAECANCELLED",
	windows.WSAEINVALIDPROCTABLE:   "WSAEINVALIDPROCTABLE",
	windows.WSAEINVALIDPROVIDER:    "WSAEINVALIDPROVIDER",
	windows.WSAEPROVIDERFAILEDINIT: "WSAEPROVIDERFAILEDINIT",
	windows.WSASYSCALLFAILURE:      "WSASYSCALLFAILURE",
	windows.WSASERVICE_NOT_FOUND:   "WSASERVICE_NOT_FOUND",
	windows.WSATYPE_NOT_FOUND:      "WSATYPE_NOT_FOUND",
	windows.WSA_E_NO_MORE:          "WSA_E_NO_MORE",
	windows.WSA_E_CANCELLED:        "WSA_E_CANCELLED",
	windows.WSAEREFUSED:            "WSAEREFUSED",

	windows.ERROR_INVALID_HANDLE:      "ERROR_INVALID_HANDLE",
	windows.ERROR_NOT_ENOUGH_MEMORY:   "ERROR_NOT_ENOUGH_MEMORY",
	windows.ERROR_NETNAME_DELETED:     "ERROR_NETNAME_DELETED",
	windows.ERROR_INVALID_PARAMETER:   "ERROR_INVALID_PARAMETER",
	windows.ERROR_SEM_TIMEOUT:         "ERROR_SEM_TIMEOUT",
	windows.ERROR_OPERATION_ABORTED:   "ERROR_OPERATION_ABORTED",
	windows.ERROR_IO_INCOMPLETE:       "ERROR_IO_INCOMPLETE",
	windows.ERROR_IO_PENDING:          "ERROR_IO_PENDING",
	windows.ERROR_CONNECTION_REFUSED:  "ERROR_CONNECTION_REFUSED",
	windows.ERROR_GRACEFUL_DISCONNECT: "ERROR_GRACEFUL_DISCONNECT",
	windows.ERROR_NETWORK_UNREACHABLE: "ERROR_NETWORK_UNREACHABLE",
	windows.ERROR_HOST_UNREACHABLE:    "ERROR_HOST_UNREACHABLE",
	windows.ERROR_PORT_UNREACHABLE:    "ERROR_PORT_UNREACHABLE",
	windows.ERROR_CONNECTION_ABORTED:  "ERROR_CONNECTION_ABORTED",
}

// errnoName is the SDK name of e, or "WSA_ERROR_<n>" for a code not in
// errnoNames: a name made from the number, never a message.
func errnoName(e windows.Errno) string {
	if name, ok := errnoNames[e]; ok {
		return name
	}
	return "WSA_ERROR_" + strconv.Itoa(int(e))
}

// classify finds the Windows error inside err by value (errors.As) and names
// it with its SDK constant name.
func classify(err error) (schema.Class, string, int) {
	var errno windows.Errno
	if !errors.As(err, &errno) {
		return schema.ClassOther, "", 0
	}
	class, ok := classes[errno]
	if !ok {
		class = schema.ClassOther
	}
	return class, errnoName(errno), int(errno)
}
