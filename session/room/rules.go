package room

import (
	"fmt"
	"maps"
	"strings"
)

// The rules of each action, as run applies them: each checks the action
// against the room and, with commit, makes the change. Callers hold r.mu.

func (r *Room) setName(o *op, m *member, commit bool) (string, error) {
	base := CleanName(o.Text)
	if base == "" {
		base = "student"
	}
	if nameKey(base) == nameKey(m.name) {
		return m.name, sameError{}
	}
	if !commit {
		return "", nil
	}
	out := base
	for n := 2; r.nameTaken(out, m); n++ {
		suffix := fmt.Sprintf(" %d", n)
		out = truncateName(base, MaxNameWidth-len(suffix)) + suffix
	}
	if k := nameKey(m.name); r.names[k] == m {
		delete(r.names, k)
	}
	m.name = out
	r.names[nameKey(out)] = m
	r.quiet(event{kind: "name", actor: m, data: map[string]any{"name": out}, touched: []*member{m}})
	return out, nil
}

// nameKey folds a name for comparing: names differing only in case clash.
func nameKey(name string) string { return strings.ToLower(name) }

func (r *Room) nameTaken(name string, self *member) bool {
	m := r.names[nameKey(name)]
	// A keyless member who left can never come back as themselves, so
	// their name is free again.
	return m != nil && m != self && !(m.sessions == 0 && m.keyless)
}

func (r *Room) setChapter(o *op, m *member, commit bool) error {
	if _, ok := r.cfg.Validate(o.Chapter, "", ""); !ok {
		return ErrUnknown
	}
	if r.chapter == o.Chapter {
		return sameError{}
	}
	if !commit {
		return nil
	}
	r.chapter = o.Chapter
	r.spot = ""
	data := map[string]any{"chapter": o.Chapter}
	// A poll belongs to its chapter: leaving the chapter closes it (its
	// answers are kept, and opening it again brings them back), so no
	// question is ever shown over a screen it is not about.
	if r.poll != nil && r.poll.spec.Chapter != o.Chapter {
		data["closed_poll"] = r.poll.spec.key()
		r.poll.open = false
		r.poll = nil
	}
	r.changed(event{kind: "chapter", actor: m, data: data})
	return nil
}

func (r *Room) setValues(o *op, m *member, commit bool) error {
	if _, ok := r.cfg.Validate(o.Chapter, "", ""); !ok {
		return ErrUnknown
	}
	next := maps.Clone(r.values[o.Chapter])
	if next == nil {
		next = map[string]string{}
	}
	for k, v := range o.Values {
		canon, ok := r.cfg.Validate(o.Chapter, k, v)
		if !ok {
			return ErrUnknown
		}
		next[k] = canon
	}
	if !commit {
		return nil
	}
	r.values[o.Chapter] = next
	r.changed(event{kind: "values", actor: m, data: map[string]any{"chapter": o.Chapter, "values": maps.Clone(o.Values)}})
	return nil
}

func (r *Room) kick(o *op, m *member, commit bool) error {
	t := r.members[o.Target]
	if t == nil || t.role == Instructor {
		return ErrUnknown
	}
	if !commit {
		return nil
	}
	t.kicked = true
	r.setHand(t, false)
	if o.Flag {
		// A keyless student is banned as that session only: their address
		// is shared by the whole class behind a school's NAT, and nothing
		// else tells them apart. They can come back as a new person; only
		// a key can be kept out.
		r.banned[o.Target] = true
	}
	r.quiet(event{kind: "kick", actor: m, data: map[string]any{"member": o.Target, "ban": o.Flag}, touched: []*member{t}, state: o.Flag})
	return nil
}

func (r *Room) contribute(o *op, m *member, commit bool) error {
	chapter, group, key := o.Chapter, o.Group, o.Key
	if _, ok := r.cfg.Validate(chapter, "", ""); !ok || len(key) > 64 || len(group) > 64 || group == "" && key == "" {
		return ErrUnknown
	}
	slot := chapter + "/" + group
	if group != "" && m.contrib[slot] == key {
		return sameError{}
	}
	t := r.tallies[chapter]
	if key != "" && len(t) >= maxTallyKeys && t[key] == 0 {
		return ErrUnknown
	}
	if group == "" && m.samples[chapter] >= MaxSamplesPerMember {
		return ErrShareFull
	}
	if !commit {
		return nil
	}
	t = maps.Clone(t)
	if t == nil {
		t = map[string]int{}
	}
	if group != "" {
		if prev := m.contrib[slot]; prev != "" {
			if t[prev]--; t[prev] <= 0 {
				delete(t, prev)
			}
		}
		contrib := maps.Clone(m.contrib)
		if contrib == nil {
			contrib = map[string]string{}
		}
		if key == "" {
			delete(contrib, slot)
		} else {
			contrib[slot] = key
		}
		m.contrib = contrib
	} else {
		if m.samples == nil {
			m.samples = map[string]int{}
		}
		m.samples[chapter]++
	}
	if key != "" {
		t[key]++
	}
	r.tallies[chapter] = t
	r.quiet(event{kind: "contribute", actor: m, data: map[string]any{"chapter": chapter, "group": group, "key": key},
		touched: []*member{m}, state: true})
	return nil
}

func (r *Room) clearTallies(chapter string, actor *member) {
	delete(r.tallies, chapter)
	var touched []*member
	for _, m := range r.members {
		hit := m.samples[chapter] > 0
		delete(m.samples, chapter)
		for slot := range m.contrib {
			if strings.HasPrefix(slot, chapter+"/") {
				hit = true
				break
			}
		}
		if !hit {
			continue
		}
		c := maps.Clone(m.contrib)
		for k := range c {
			if strings.HasPrefix(k, chapter+"/") {
				delete(c, k)
			}
		}
		m.contrib = c
		touched = append(touched, m)
	}
	r.changed(event{kind: "tallies.clear", actor: actor, data: map[string]any{"chapter": chapter}, touched: touched})
}

// setHand raises or lowers m's hand, keeping the count of hands up that the
// instructors' screens show. Callers hold r.mu.
func (r *Room) setHand(m *member, up bool) {
	if m.hand == up {
		return
	}
	m.hand = up
	if up {
		r.hands++
	} else {
		r.hands--
	}
}

// SetAlert puts a warning on this server's instructors' screens ("" clears
// it). The server uses it when the class stops being saved, and when saving
// works again.
func (r *Room) SetAlert(text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.alert == text {
		return
	}
	r.alert = text
	r.publish([]*member{})
}
