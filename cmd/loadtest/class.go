package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/expedition-llm/expedition/internal/procstat"
)

// Key bytes an xterm sends.
const (
	keyEnter = "\r"
	keyDown  = "\x1b[B"
	keyRight = "\x1b[C"
	keyLeft  = "\x1b[D"
	keyClear = "\x15" // ctrl+u
)

// namePrompt is on the first screen of every new member.
const namePrompt = "What should the class call you?"

// The instructor's terminal: wide enough for the controls beside the
// chapter.
const instructorW, instructorH = 120, 40

// options are a run's settings, the same for the server and the floor.
type options struct {
	students    int
	steps       int
	pace        time.Duration // 0: lockstep, the next step once every student shows this one
	sizes       []size
	connectRate float64
	connectConc int
	verify      int // students cross-checked with x/vt; -1 for all
	timeout     time.Duration
	idle        time.Duration
	quiet       time.Duration // no output this long means the class has settled
	chapter     string
	label       string
	record      bool // students keep their raw output (tests)
}

// target is what one measurement runs against.
type target struct {
	name string // "server" or "floor"
	addr string // the instructor's SSH address, whatever the students' door
	// students are the students' addresses, student i going to the
	// (i mod n)th: SSH addresses (the first of them addr), or the
	// WebSockets' with web.
	students []string
	token    string
	pid      int      // its process, for CPU and memory; 0 when unknown
	web      *webDoor // the students' door when they come by web; nil for SSH
}

// studentAddr is where student i goes, and that address's index.
func (tg target) studentAddr(i int) (string, int) {
	j := i % len(tg.students)
	return tg.students[j], j
}

// door is how the students connect: doorSSH or doorWeb.
func (tg target) door() string {
	if tg.web != nil {
		return doorWeb
	}
	return doorSSH
}

// step is one key press of the instructor's and the value it brought.
type step struct {
	at    time.Duration // since the epoch, just before the key was written
	value string
}

// class is one measurement under way: an instructor, the students that
// joined, and the steps.
type class struct {
	opt    options
	tg     target
	log    io.Writer
	epoch  time.Time
	notify chan struct{}

	instructor *term
	students   []*term // those that joined, in index order
	at         []int   // each joined student's address, an index into tg.students
	joins      []time.Duration
	failures   int
	failuresAt []int // by address, an index into tg.students
	firstErr   error
}

// measure runs one class against tg and reports what it saw.
func measure(ctx context.Context, opt options, tg target, log io.Writer) (*result, error) {
	c := &class{opt: opt, tg: tg, log: log, epoch: time.Now(), notify: make(chan struct{}, 1)}
	defer c.closeAll()
	res := &result{Target: tg.name, Door: tg.door(), Addr: tg.addr, PID: tg.pid, Students: opt.students, Steps: opt.steps,
		Pace: opt.pace.String()}
	if tg.web != nil {
		res.Web = strings.Join(tg.students, ",")
	} else {
		res.Addr = strings.Join(tg.students, ",")
	}

	start, err := c.teach(ctx)
	if err != nil {
		return nil, err
	}
	rssBefore, rssErr := procstat.RSS(tg.pid)

	joinStart := time.Now()
	c.join(ctx, string(start.value))
	res.JoinSeconds = time.Since(joinStart).Seconds()
	res.Joined, res.JoinFailures = len(c.students), c.failures
	if c.firstErr != nil {
		res.JoinFirstError = c.firstErr.Error()
	}
	if len(c.students) == 0 {
		return nil, fmt.Errorf("%s: no student joined: %w", tg.name, c.firstErr)
	}
	res.Join = quantilesOf(c.joins)
	fmt.Fprintf(log, "%s: %d of %d students joined in %.1f s\n", tg.name, res.Joined, opt.students, res.JoinSeconds)

	c.settle(ctx)
	if rssErr == nil {
		if rssJoined, err := procstat.RSS(tg.pid); err == nil {
			res.RSSBeforeMiB = ptr(float64(rssBefore) / (1 << 20))
			res.RSSJoinedMiB = ptr(float64(rssJoined) / (1 << 20))
			res.RSSPerSessionKiB = ptr(float64(rssJoined-rssBefore) / 1024 / float64(len(c.students)))
		}
	}
	c.idle(ctx, res)

	steps, win, err := c.play(ctx, start)
	if err != nil {
		return nil, err
	}
	res.StepsPerSecond = win.rate
	n, k := float64(len(c.students)), float64(len(steps))
	res.BytesPerStudentPerStep = float64(win.bytes) / n / k
	res.FramesPerStudentPerStep = float64(win.frames) / n / k
	if win.cpuOK {
		res.CPUPerStepMs = ptr(win.cpu / k * 1e3)
		res.CPUPerStudentStepUs = ptr(win.cpu / k / n * 1e6)
	}
	fmt.Fprintf(log, "%s: %d steps done\n", tg.name, len(steps))

	// The reads end once the sessions close; only then are the events and
	// the cross-checks complete.
	c.closeAll()
	c.score(res, steps)
	return res, nil
}

// teach connects the instructor, opens the chapter and focuses the
// control, and returns the control as the instructor's screen shows it.
// The instructor comes by SSH whatever the students' door: a class is
// taught from a terminal, and the timing reference stays the same.
func (c *class) teach(ctx context.Context) (control, error) {
	o := c.opt
	t, err := dial(ctx, dialOptions{addr: c.tg.addr, user: "instructor", auth: tokenAuth(c.tg.token),
		size: size{instructorW, instructorH}, label: o.label, epoch: c.epoch, timeout: o.timeout, verify: true})
	if err != nil {
		return control{}, fmt.Errorf("%s: instructor: %w", c.tg.name, err)
	}
	c.instructor = t
	// A first visit meets the name prompt; a returning instructor lands
	// where they were.
	if err := t.waitFor(ctx, o.timeout, "first screen", func(t *term) bool {
		return t.contains(namePrompt) || t.contains("connected")
	}); err != nil {
		return control{}, err
	}
	t.mu.Lock()
	prompted := t.contains(namePrompt)
	t.mu.Unlock()
	if prompted {
		if err := t.send(keyEnter); err != nil {
			return control{}, err
		}
		if err := t.waitFor(ctx, o.timeout, "the class after the name prompt", func(t *term) bool {
			return !t.contains(namePrompt)
		}); err != nil {
			return control{}, err
		}
	}
	keys := o.chapter
	if len(keys) > 1 {
		keys += keyEnter // past 9 a chapter number is typed, then enter
	}
	if err := t.send(keys); err != nil {
		return control{}, err
	}
	if err := t.waitFor(ctx, o.timeout, fmt.Sprintf("%q in chapter %s", o.label, o.chapter), func(t *term) bool {
		return t.cur != ""
	}); err != nil {
		return control{}, err
	}
	// ↓ moves the focus a control at a time until it reaches the label's.
	for range 16 {
		t.mu.Lock()
		cur, _ := t.current()
		before := t.focusRow()
		t.mu.Unlock()
		if cur.focused {
			return cur, nil
		}
		if err := t.send(keyDown); err != nil {
			return control{}, err
		}
		if err := t.waitFor(ctx, o.timeout, "the focus to move", func(t *term) bool {
			return t.focusRow() != before
		}); err != nil {
			return control{}, err
		}
	}
	return control{}, fmt.Errorf("%s: ↓ never reached %q:\n%s", c.tg.name, o.label, t.text())
}

// focusRow is the focused control's row, "" when none. The caller holds mu.
func (t *term) focusRow() string {
	for y := range t.scr.h {
		t.rowBuf = t.scr.appendRow(t.rowBuf[:0], y)
		if i := bytes.Index(t.rowBuf, []byte(focusMark)); i >= 0 {
			return string(t.rowBuf[i:])
		}
	}
	return ""
}

// join connects the students at the connect rate, at most connectConc at
// a time, each answering the name prompt and waiting to see the class's
// value.
func (c *class) join(ctx context.Context, value string) {
	o := c.opt
	lim := rate.NewLimiter(rate.Limit(o.connectRate), 1)
	sem := make(chan struct{}, o.connectConc)
	verified := pickVerified(o.students, o.verify)
	c.failuresAt = make([]int, len(c.tg.students))
	joined := make([]*term, o.students)
	took := make([]time.Duration, o.students)
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for i := range o.students {
		if lim.Wait(ctx) != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			begin := time.Now()
			t, err := c.joinOne(ctx, i, verified[i], value)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				_, j := c.tg.studentAddr(i)
				c.failures++
				c.failuresAt[j]++
				if c.firstErr == nil {
					c.firstErr = err
				}
				return
			}
			joined[i], took[i] = t, time.Since(begin)
		}()
	}
	wg.Wait()
	for i, t := range joined {
		if t != nil {
			_, j := c.tg.studentAddr(i)
			c.students = append(c.students, t)
			c.at = append(c.at, j)
			c.joins = append(c.joins, took[i])
		}
	}
}

// pickVerified chooses which of n students are cross-checked: v of them
// spread evenly over the indices (so over the sizes), or all.
func pickVerified(n, v int) []bool {
	out := make([]bool, n)
	if v < 0 || v >= n {
		for i := range out {
			out[i] = true
		}
		return out
	}
	for j := range v {
		out[j*n/v] = true
	}
	return out
}

func (c *class) joinOne(ctx context.Context, i int, verify bool, value string) (*term, error) {
	o := c.opt
	name := fmt.Sprintf("s%04d", i)
	addr, _ := c.tg.studentAddr(i)
	do := dialOptions{addr: addr, user: name, web: c.tg.web, size: o.sizes[i%len(o.sizes)],
		label: o.label, epoch: c.epoch, timeout: o.timeout, verify: verify, record: o.record, notify: c.notify}
	if do.web == nil {
		auth, err := studentAuth()
		if err != nil {
			return nil, err
		}
		do.auth = auth
	}
	t, err := dial(ctx, do)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*term, error) {
		t.close()
		return nil, err
	}
	if err := t.waitFor(ctx, o.timeout, "name prompt", func(t *term) bool { return t.contains(namePrompt) }); err != nil {
		return fail(err)
	}
	// The prompt offers the SSH user name, and enter takes it; a page has
	// no user name, so a web student types one.
	keys := keyEnter
	if do.web != nil {
		keys = keyClear + name + keyEnter
	}
	if err := t.send(keys); err != nil {
		return fail(err)
	}
	refused := false
	if err := t.waitFor(ctx, o.timeout, "the class's value "+value, func(t *term) bool {
		refused = t.contains("Please type a name")
		return t.cur == value || refused
	}); err != nil {
		return fail(err)
	}
	if refused {
		if err := t.send(keyClear + name + keyEnter); err != nil {
			return fail(err)
		}
		if err := t.waitFor(ctx, o.timeout, "the class's value "+value, func(t *term) bool { return t.cur == value }); err != nil {
			return fail(err)
		}
	}
	return t, nil
}

// settle waits until no output has reached anyone for opt.quiet (the
// server brings head counts up to date a moment after the last join), or
// at most ten quiet periods.
func (c *class) settle(ctx context.Context) {
	last, lastChange := c.totalBytes(), time.Now()
	deadline := time.Now().Add(10 * c.opt.quiet)
	tick := time.NewTicker(c.opt.quiet / 10)
	defer tick.Stop()
	for time.Since(lastChange) < c.opt.quiet && time.Now().Before(deadline) {
		// Polled, not awaited: what is awaited is the absence of output.
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if b := c.totalBytes(); b != last {
			last, lastChange = b, time.Now()
		}
	}
}

// idle measures the server with everyone connected and nothing changing:
// its CPU as a share of one core, and what it sends meanwhile.
func (c *class) idle(ctx context.Context, res *result) {
	if c.opt.idle <= 0 {
		return
	}
	cpu0, cpuErr := procstat.CPU(c.tg.pid)
	b0 := c.studentBytes()
	begin := time.Now()
	select {
	case <-ctx.Done():
		return
	case <-time.After(c.opt.idle):
	}
	took := time.Since(begin).Seconds()
	res.IdleBytesPerStudentPerSecond = float64(c.studentBytes()-b0) / float64(len(c.students)) / took
	if cpuErr == nil {
		if cpu1, err := procstat.CPU(c.tg.pid); err == nil {
			res.IdleCPUCores = ptr((cpu1 - cpu0) / took)
		}
	}
}

// window is what the steps cost, from the first key press until every
// student showed the last value (or timed out).
type window struct {
	bytes, frames int64
	cpu           float64
	cpuOK         bool
	rate          float64 // steps a second achieved
}

// play has the instructor move the control opt.steps times. Each key waits
// for the pace and for the instructor's own screen to show the previous
// value (a person sees the change before pressing again); the value the
// instructor's screen then shows is what every student must see.
func (c *class) play(ctx context.Context, start control) ([]step, window, error) {
	o := c.opt
	t := c.instructor
	prev, knob := string(start.value), start.knob
	right := knob < 0.5 // towards the side with more room
	var win window
	cpu0, cpuErr := procstat.CPU(c.tg.pid)
	bytes0, frames0 := c.studentBytes(), c.studentFrames()
	steps := make([]step, 0, o.steps)
	var pressed time.Time
	for k := range o.steps {
		if k > 0 && o.pace > 0 {
			if wait := time.Until(pressed.Add(o.pace)); wait > 0 {
				select {
				case <-ctx.Done():
					return nil, win, ctx.Err()
				case <-time.After(wait):
				}
			}
		}
		// At the slider's end, turn: every step must change the value.
		if knob >= 1 {
			right = false
		} else if knob == 0 {
			right = true
		}
		key := keyLeft
		if right {
			key = keyRight
		}
		at := time.Since(c.epoch)
		pressed = time.Now()
		if err := t.send(key); err != nil {
			return nil, win, err
		}
		var value string
		if err := t.waitFor(ctx, o.timeout, fmt.Sprintf("a value after %q on the instructor's screen", prev), func(t *term) bool {
			if t.cur == prev || t.cur == "" {
				return false
			}
			value = t.cur
			if cur, ok := t.current(); ok {
				knob = cur.knob
			}
			return true
		}); err != nil {
			return nil, win, fmt.Errorf("%s: step %d: %w", c.tg.name, k+1, err)
		}
		steps = append(steps, step{at: at, value: value})
		prev = value
		if o.pace == 0 {
			c.waitAll(ctx, value, pressed.Add(o.timeout))
		}
	}
	if o.pace > 0 {
		c.waitAll(ctx, prev, pressed.Add(o.timeout))
	}
	win.bytes = c.studentBytes() - bytes0
	win.frames = c.studentFrames() - frames0
	if cpuErr == nil {
		if cpu1, err := procstat.CPU(c.tg.pid); err == nil {
			win.cpu, win.cpuOK = cpu1-cpu0, true
		}
	}
	if n := len(steps); n > 1 {
		win.rate = float64(n-1) / (steps[n-1].at - steps[0].at).Seconds()
	}
	return steps, win, nil
}

// waitAll waits until every student's screen shows value, or the deadline.
func (c *class) waitAll(ctx context.Context, value string, deadline time.Time) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		if !slices.ContainsFunc(c.students, func(t *term) bool { return !t.shows(value) }) {
			return
		}
		select {
		case <-c.notify:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (c *class) studentBytes() int64 {
	var n int64
	for _, t := range c.students {
		n += t.bytes.Load()
	}
	return n
}

func (c *class) studentFrames() int64 {
	var n int64
	for _, t := range c.students {
		n += int64(t.framesSeen())
	}
	return n
}

func (c *class) totalBytes() int64 {
	n := c.studentBytes()
	if c.instructor != nil {
		n += c.instructor.bytes.Load()
	}
	return n
}

// closeAll closes every session, many at a time, and waits for their read
// loops. It is safe to call twice.
func (c *class) closeAll() {
	all := slices.Clone(c.students)
	if c.instructor != nil {
		all = append(all, c.instructor)
	}
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for _, t := range all {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t.close()
		}()
	}
	wg.Wait()
}

// score turns each student's value events into a latency or a miss per
// step, in all and by address, and gathers the cross-checks.
func (c *class) score(res *result, steps []step) {
	var all []time.Duration
	bySize := map[size][]time.Duration{}
	res.ByAddr = make([]addrResult, len(c.tg.students))
	byAddr := make([][]time.Duration, len(c.tg.students))
	for j, a := range c.tg.students {
		// Students i ≡ j (mod n) of the n addresses were sent there.
		res.ByAddr[j] = addrResult{Addr: a, Students: (c.opt.students - j + len(c.tg.students) - 1) / len(c.tg.students),
			JoinFailures: c.failuresAt[j]}
	}
	last := make([]time.Duration, len(steps)) // the slowest student per step
	complete := make([]bool, len(steps))
	for k := range complete {
		complete[k] = true
	}
	for i, t := range c.students {
		j := c.at[i]
		ar := &res.ByAddr[j]
		ar.Joined++
		for k := range steps {
			lat, why := shown(t.events, steps, k, c.opt.timeout)
			res.Samples++
			ar.Samples++
			switch why {
			case "":
				all = append(all, lat)
				byAddr[j] = append(byAddr[j], lat)
				bySize[t.size] = append(bySize[t.size], lat)
				last[k] = max(last[k], lat)
			case missSuperseded:
				res.MissesSuperseded++
				ar.MissesSuperseded++
				complete[k] = false
			default:
				res.MissesTimedOut++
				ar.MissesTimedOut++
				complete[k] = false
			}
		}
	}
	res.Misses = res.MissesSuperseded + res.MissesTimedOut
	res.Shown = len(all)
	res.Latency = quantilesOf(all)
	for j := range res.ByAddr {
		ar := &res.ByAddr[j]
		ar.Misses = ar.MissesSuperseded + ar.MissesTimedOut
		ar.Shown = len(byAddr[j])
		ar.Latency = quantilesOf(byAddr[j])
	}
	var slowest []time.Duration
	for k := range steps {
		if complete[k] {
			slowest = append(slowest, last[k])
		}
	}
	res.LastStudent = quantilesOf(slowest)
	res.BySize = map[string]quantiles{}
	for s, lats := range bySize {
		res.BySize[s.String()] = quantilesOf(lats)
	}
	for _, t := range append([]*term{c.instructor}, c.students...) {
		if t == nil || t.check == nil {
			continue
		}
		if t.check.compared > 0 {
			res.Verify.Clients++
		}
		res.Verify.Screens += t.check.compared
		res.Verify.Mismatches += t.check.mismatches
		if res.Verify.First == "" {
			res.Verify.First = t.check.first
		}
	}
}

// Why a (student, step) is a miss.
const (
	missSuperseded = "superseded" // a later step's value showed first
	missTimedOut   = "timed out"  // not within the timeout, or never
)

// shown is when step k's value first showed in events, counted from the
// key press; or why it did not.
func shown(events []valueEvent, steps []step, k int, timeout time.Duration) (time.Duration, string) {
	st := steps[k]
	for _, e := range events {
		if e.at < st.at {
			continue
		}
		if e.at-st.at > timeout {
			return 0, missTimedOut
		}
		if e.value == st.value {
			return e.at - st.at, ""
		}
		for _, later := range steps[k+1:] {
			if e.value == later.value && e.at >= later.at {
				return 0, missSuperseded
			}
		}
	}
	return 0, missTimedOut
}

func ptr(f float64) *float64 { return &f }
