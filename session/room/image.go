package room

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// image is the whole room at one place in the class's order: what a server
// that starts late or restarts loads before applying the operations after
// it. Unlike Saved it keeps everything the operations after it build on
// (keyless members, hands, who is connected where), so the room it loads
// is the room every other server holds.
type image struct {
	Seq      uint64            `json:"seq"`
	State    Saved             `json:"state"`
	LastPoll map[string]string `json:"last_poll,omitempty"`
	Members  []imageMember     `json:"members,omitempty"`
}

type imageMember struct {
	SavedMember
	Hand    bool           `json:"hand,omitempty"`
	Kicked  bool           `json:"kicked,omitempty"`
	Keyless bool           `json:"keyless,omitempty"`
	Addr    string         `json:"addr,omitempty"`
	At      map[string]int `json:"at,omitempty"`
}

// Image is the room as it stands, encoded, and its place in the class's
// order: a transport keeps the newest so that a server joining the class
// need not apply every operation since the start.
func (r *Room) Image() (seq uint64, data []byte, err error) {
	r.mu.Lock()
	img := image{Seq: r.applied, State: r.save(), LastPoll: maps.Clone(r.lastPoll)}
	for i := range img.State.Polls {
		img.State.Polls[i].Answers = maps.Clone(r.polls[img.State.Polls[i].Spec.key()].answers)
	}
	for _, id := range slices.Sorted(maps.Keys(r.members)) {
		m := r.members[id]
		img.Members = append(img.Members, imageMember{SavedMember: m.save(), Hand: m.hand, Kicked: m.kicked,
			Keyless: m.keyless, Addr: m.addr, At: maps.Clone(m.at)})
	}
	r.mu.Unlock()
	data, err = json.Marshal(img)
	if err != nil {
		return 0, nil, fmt.Errorf("encode the room: %w", err)
	}
	return img.Seq, data, nil
}

// LoadImage replaces an empty room's state with an image (at start-up,
// before anyone joins) and returns its place in the class's order: the
// next operation to apply is the one after it.
func (r *Room) LoadImage(data []byte) (uint64, error) {
	var img image
	if err := json.Unmarshal(data, &img); err != nil {
		return 0, fmt.Errorf("decode the room: %w", err)
	}
	saved := make([]SavedMember, len(img.Members))
	for i, m := range img.Members {
		saved[i] = m.SavedMember
	}
	r.Restore(img.State, saved)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied = img.Seq
	maps.Copy(r.lastPoll, img.LastPoll)
	for _, im := range img.Members {
		m := r.members[im.ID]
		if m == nil {
			if !im.Keyless {
				continue // Restore refused it
			}
			m = &member{id: im.ID, name: CleanName(im.Name), role: im.Role, joined: im.FirstSeen, active: im.LastSeen,
				pos: im.Position, answers: maps.Clone(im.Answers), contrib: maps.Clone(im.Votes), samples: maps.Clone(im.Samples)}
			if m.answers == nil {
				m.answers = map[string]Answer{}
			}
			r.members[m.id] = m
			if m.name != "" && r.names[nameKey(m.name)] == nil {
				r.names[nameKey(m.name)] = m
			}
		}
		m.keyless, m.kicked, m.addr = im.Keyless, im.Kicked, im.Addr
		r.setHand(m, im.Hand)
		for server, n := range im.At {
			if n <= 0 {
				continue
			}
			if m.at == nil {
				m.at = map[string]int{}
			}
			m.at[server] = n
			m.sessions += n
		}
		if m.sessions > 0 {
			r.connected++
		}
		r.present(m)
	}
	return img.Seq, nil
}
