package probes

import (
	"net/netip"
	"testing"
	"time"
)

// fakeEnds is a two-entry system table for endsSettler: reads returns the
// states read by read number (the last one repeats), and a barrier applies
// the segments queued before it (onBarrier), as a FIFO input queue would.
type fakeEnds struct {
	reads     [][2]string
	n         int
	onBarrier [][][2]string // after the i-th barrier the table reads these from then on
	barriers  int
	atBarrier [][2]string // what the table read when each barrier was sent
	lookupErr error
	barrErr   error
}

func (f *fakeEnds) lookup(Conn4) (string, string, error) {
	if f.lookupErr != nil {
		return "", "", f.lookupErr
	}
	st := f.reads[min(f.n, len(f.reads)-1)]
	f.n++
	return st[0], st[1], nil
}

func (f *fakeEnds) barrier(_ Conn4, bound time.Duration) error {
	f.atBarrier = append(f.atBarrier, f.reads[min(f.n, len(f.reads)-1)])
	if bound <= 0 {
		return errBarrierBound
	}
	if f.barrErr != nil {
		return f.barrErr
	}
	if f.barriers < len(f.onBarrier) {
		f.reads, f.n = f.onBarrier[f.barriers], 0
	}
	f.barriers++
	return nil
}

func (f *fakeEnds) settler() endsSettler {
	return endsSettler{lookup: f.lookup, barrier: f.barrier, poll: 50 * time.Microsecond, pollMax: 200 * time.Microsecond}
}

func TestEndsSettler(t *testing.T) {
	var c Conn4
	cases := []struct {
		name         string
		f            fakeEnds
		bound        time.Duration
		want         bool
		wantBarriers int
	}{{
		// An orderly close: the actor's FIN awaits its ACK; the barrier
		// is sent only once neither end is transient, and the table,
		// read again after it, agrees.
		name: "FIN acknowledged, then one barrier",
		f: fakeEnds{reads: [][2]string{
			{StateFinWait1, StateEstablished}, {StateFinWait1, StateCloseWait}, {StateFinWait2, StateCloseWait},
		}},
		bound: time.Second, want: true, wantBarriers: 1,
	}, {
		// An abort: the actor is gone at once, the peer still reads
		// ESTABLISHED — nothing transient, so only the barrier shows the
		// RST landing; the change it reveals earns another round.
		name: "RST lands behind the barrier",
		f: fakeEnds{
			reads:     [][2]string{{StateNone, StateEstablished}},
			onBarrier: [][][2]string{{{StateNone, StateNone}}},
		},
		bound: time.Second, want: true, wantBarriers: 2,
	}, {
		// The peer's FIN was queued before the barrier, the actor's ACK
		// of it behind: after the barrier the peer reads LAST_ACK, and
		// the round starts over until that ACK has landed too.
		name: "a change after the barrier starts another round",
		f: fakeEnds{
			reads: [][2]string{{StateFinWait2, StateCloseWait}},
			onBarrier: [][][2]string{
				{{StateTimeWait, StateLastAck}, {StateTimeWait, StateLastAck}, {StateTimeWait, StateNone}},
				{{StateTimeWait, StateNone}},
			},
		},
		bound: time.Second, want: true, wantBarriers: 2,
	}, {
		name:  "transient for the whole bound: no barrier, not settled",
		f:     fakeEnds{reads: [][2]string{{StateFinWait1, StateEstablished}}},
		bound: 5 * time.Millisecond, want: false, wantBarriers: 0,
	}, {
		name:  "the barrier does not pass: not settled",
		f:     fakeEnds{reads: [][2]string{{StateNone, StateEstablished}}, barrErr: errBarrierBound},
		bound: time.Second, want: false, wantBarriers: 0,
	}, {
		// Without a table the barrier is still passed (it alone shows an
		// RST landing), but the connection is not called settled.
		name:  "no table: one barrier, not settled",
		f:     fakeEnds{reads: [][2]string{{}}, lookupErr: ErrStateUnavailable},
		bound: time.Second, want: false, wantBarriers: 1,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			start := time.Now()
			got := f.settler().settle(c, tc.bound)
			if got != tc.want {
				t.Errorf("settle = %v, want %v", got, tc.want)
			}
			if f.barriers != tc.wantBarriers {
				t.Errorf("%d barriers passed, want %d", f.barriers, tc.wantBarriers)
			}
			for i, st := range f.atBarrier {
				if transient[st[0]] || transient[st[1]] {
					t.Errorf("barrier %d sent while the table read %v", i, st)
				}
			}
			if el := time.Since(start); el > tc.bound+100*time.Millisecond {
				t.Errorf("settle took %v, bound %v", el, tc.bound)
			}
		})
	}
}

// The settle must give up when the states flap past its bound, never loop.
func TestEndsSettlerBounded(t *testing.T) {
	flips := 0
	e := endsSettler{
		lookup: func(Conn4) (string, string, error) {
			flips++
			return StateNone, []string{StateEstablished, StateCloseWait}[flips%2], nil
		},
		barrier: func(Conn4, time.Duration) error { time.Sleep(time.Millisecond); return nil },
		poll:    time.Millisecond, pollMax: time.Millisecond,
	}
	start := time.Now()
	if e.settle(Conn4{}, 20*time.Millisecond) {
		t.Error("settle = true over a table that never reads the same twice")
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("settle took %v over a 20 ms bound", el)
	}
}

func TestReverse(t *testing.T) {
	c := Conn4{Local: netip.MustParseAddrPort("127.0.0.1:1"), Remote: netip.MustParseAddrPort("127.0.0.1:2")}
	if r := reverse(c); r.Local != c.Remote || r.Remote != c.Local {
		t.Errorf("reverse(%v) = %v", c, r)
	}
}
