package lessons

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/expedition-llm/expedition/lessons/ui"
	"github.com/expedition-llm/expedition/sim"
)

// Posttrain is chapter 6, "Teaching it to be helpful": a stepper through
// supervised fine-tuning, reward modelling, RLHF and reasoning RL, each step
// with one thing to try.
//
// The reward-model step fits a Bradley–Terry model to votes on pairs of
// responses. The class's votes arrive in Frame.Class under the keys
//
//	vote:<pair>:<winner>
//
// where <pair> is one of ab, ac, ad, bc, bd, cd (the two responses compared,
// A to D) and <winner> is the letter of the response preferred, e.g.
// "vote:ab:a" → how many students preferred A to B, "vote:ab:b" → B to A.
// The classroom can build the tally by counting each student's value of the
// control "pick_<pair>", whose values are the same letters ("none" for no
// vote). Other keys and non-positive counts are ignored. With no class
// votes the fit uses the learner's own picks. Either way every pair also
// gets ptPrior pseudo-votes each way, so a response that wins every vote
// gets a large but finite score and, with no votes at all, every score is 0.
type Posttrain struct {
	meta
	chat      []ptMessage
	responses []ptResponse
	pairs     [][2]int
	rlhf      []sim.RLHFResponse
	controls  []Control
}

// ptPrior is the Bradley–Terry prior: pseudo-votes each way per pair.
const ptPrior = 0.5

// ptTries is how many attempts the reasoning step samples.
const ptTries = 16

// ptToken is one token of the SFT example: its text, its ID and whether
// it is one of the chat format's special tokens.
type ptToken struct {
	text    string
	id      int
	special bool
}

// ptMessage is one turn of the SFT conversation, as tokens. The first
// header tokens are what the server writes at answer time (for the
// assistant, "<|start|>assistant"), so they are never in the loss.
type ptMessage struct {
	role   string
	tokens []ptToken
	header int
}

// ptResponse is one of the reward step's candidate answers.
type ptResponse struct {
	letter, text string
}

// The special tokens of OpenAI's harmony response format, the chat format
// published with the open-weight gpt-oss models (the o200k_harmony encoding;
// IDs from the format's guide): they sit just past o200k_base's vocabulary.
const (
	harmonyReturn  = 200002
	harmonyChannel = 200005
	harmonyStart   = 200006
	harmonyEnd     = 200007
	harmonyMessage = 200008
)

// NewPosttrain builds the chapter, tokenizing the SFT example once with tk,
// the real o200k_base tokenizer (shared with chapter 1: loading one costs
// a fifth of a second and 20 MB).
func NewPosttrain(tk *sim.Tokenizer) (*Posttrain, error) {
	if tk == nil || tk.Encoding() != sim.O200kBase {
		return nil, fmt.Errorf("posttrain: needs the o200k_base tokenizer")
	}
	special := func(name string, id int) ptToken { return ptToken{text: name, id: id, special: true} }
	text := func(s string) []ptToken {
		var out []ptToken
		for _, t := range tk.Encode(s) {
			// Spaces show as · so they cannot be mistaken for the gap
			// between two tokens.
			out = append(out, ptToken{text: t.Visible(true), id: t.ID})
		}
		return out
	}
	turn := func(role, channel, content string, end ptToken) ptMessage {
		m := ptMessage{role: role}
		m.tokens = append(m.tokens, special("<|start|>", harmonyStart))
		m.tokens = append(m.tokens, text(role)...)
		m.header = len(m.tokens)
		if channel != "" {
			m.tokens = append(m.tokens, special("<|channel|>", harmonyChannel))
			m.tokens = append(m.tokens, text(channel)...)
		}
		m.tokens = append(m.tokens, special("<|message|>", harmonyMessage))
		m.tokens = append(m.tokens, text(content)...)
		m.tokens = append(m.tokens, end)
		if role != "assistant" {
			m.header = len(m.tokens) // a prompt turn is all header
		}
		return m
	}
	p := &Posttrain{
		meta: meta{id: "posttrain", number: 6, title: "Teaching it to be helpful",
			summary: "Post-training: fine-tuning on chats, a reward model from votes, RLHF's KL leash, reasoning RL"},
		chat: []ptMessage{
			// Instructions go in the developer message, under "# Instructions"
			// (the harmony guide's "developer message format"); the system
			// message is for identity, dates and reasoning effort.
			turn("developer", "", "# Instructions\n\nAnswer in one sentence.", special("<|end|>", harmonyEnd)),
			turn("user", "", "What is the capital of Australia?", special("<|end|>", harmonyEnd)),
			// A training target ends with <|return|>, the token that stops
			// generation (harmony format docs), so stopping is learned too.
			turn("assistant", "final", "Canberra, not Sydney.", special("<|return|>", harmonyReturn)),
		},
		responses: []ptResponse{
			{"A", "The dict has no key 'name': check the spelling, or use d.get('name')."},
			{"B", "Great question! Errors are part of learning to code, and you're doing great!"},
			{"C", "KeyError is raised when a mapping key is not found in the set of keys."},
			{"D", "Reinstall Python: your installation is probably broken."},
		},
		pairs: [][2]int{{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}},
		rlhf:  sim.RLHFCandidates(),
	}
	p.controls = []Control{
		{Key: "step", Label: "Step", Kind: Choice, Default: "sft",
			Help: "←/→ walk the four stages of post-training",
			Options: []Option{
				{Value: "sft", Label: "1 SFT", Note: "imitate good chats"},
				{Value: "reward", Label: "2 Reward model", Note: "learn from votes"},
				{Value: "rlhf", Label: "3 RLHF", Note: "chase reward, on a leash"},
				{Value: "reasoning", Label: "4 Reasoning RL", Note: "checkable answers"},
			}},
		{Key: "mask", Label: "Loss on", Kind: Choice, Default: "assistant", When: "step=sft",
			Help: "←/→ which tokens the training loss counts",
			Options: []Option{
				{Value: "assistant", Label: "the reply only", Note: "as in SFT"},
				{Value: "all", Label: "every token", Note: "as in pretraining"},
			}},
	}
	for _, pr := range p.pairs {
		a, b := p.responses[pr[0]].letter, p.responses[pr[1]].letter
		key := strings.ToLower(a + b)
		p.controls = append(p.controls, Control{
			Key: "pick_" + key, Label: a + " vs " + b, Kind: Choice, Default: "none", When: "step=reward", Personal: true,
			Help: fmt.Sprintf("←/→ which answer is better, %s or %s? Your vote joins the class's", a, b),
			Options: []Option{
				{Value: "none", Label: "—", Note: "no vote yet"},
				{Value: strings.ToLower(a), Label: a},
				{Value: strings.ToLower(b), Label: b},
			}})
	}
	p.controls = append(p.controls,
		Control{Key: "beta", Label: "KL penalty β", Kind: Slider, Min: 0.01, Max: 10, Log: true, Steps: 30,
			Format: "%.3g", Default: "1", When: "step=rlhf",
			Help: "←/→ the KL leash: small β is a long one (chases reward), large β a short one (stays near SFT)"},
		Control{Key: "p", Label: "Success p", Kind: Slider, Min: 0.01, Max: 0.99, Step: 0.01, Format: "%.2f",
			Default: "0.2", When: "step=reasoning",
			Help: "←/→ the chance that one attempt is right (pass@1): what RL training raises"},
		Control{Key: "k", Label: "Tries k", Kind: Slider, Min: 1, Max: 64, Step: 1, Format: "%.0f",
			Default: "8", When: "step=reasoning",
			Help: "←/→ at test time, how many attempts a verifier may check: best of k"},
		Control{Key: "seed", Label: "Seed", Kind: Slider, Min: 1, Max: 99, Step: 1, Format: "%.0f",
			Default: "1", When: "step=reasoning",
			Help: "←/→ draw another group of 16 attempts and another training run"},
	)
	return p, nil
}

// Contribute implements Activity: the learner's picks become their votes,
// one per pair ("none" withdraws a vote), so changing a pick moves the
// class's tally instead of adding to it.
func (p *Posttrain) Contribute(v Values, _ uint64) []Contribution {
	v = Normalize(p.controls, v)
	out := make([]Contribution, 0, len(p.pairs))
	for _, pr := range p.pairs {
		key := strings.ToLower(p.responses[pr[0]].letter + p.responses[pr[1]].letter)
		c := Contribution{Group: "pair:" + key}
		if pick := v["pick_"+key]; pick != "none" {
			c.Key = "vote:" + key + ":" + pick
		}
		out = append(out, c)
	}
	return out
}

// ActivityHelp implements Activity.
func (p *Posttrain) ActivityHelp() string { return "send your votes" }

// Controls implements Lesson.
func (p *Posttrain) Controls() []Control { return p.controls }

// Spots implements Spotter: the parts of the current step worth pointing at.
func (p *Posttrain) Spots(v Values) []Spot {
	v = Normalize(p.controls, v)
	var out []Spot
	switch v["step"] {
	case "reward":
		for _, r := range p.responses {
			out = append(out, Spot{ID: "resp:" + strings.ToLower(r.letter), Label: "Response " + r.letter})
		}
	case "rlhf":
		for _, c := range p.rlhf {
			out = append(out, Spot{ID: "cand:" + c.Label, Label: "The " + c.Label + " answer"})
		}
	case "reasoning":
		out = []Spot{{ID: "tries", Label: "The training group"}, {ID: "train", Label: "The training run"}, {ID: "passk", Label: "pass@k at test time"}}
	default:
		for _, m := range p.chat {
			out = append(out, Spot{ID: "msg:" + m.role, Label: "The " + m.role + " turn"})
		}
	}
	return out
}

// Render implements Lesson.
func (p *Posttrain) Render(f Frame) string {
	if f.Width < 1 || f.Height < 1 || f.Theme == nil {
		return ""
	}
	v := Normalize(p.controls, f.Values)
	var out string
	switch v["step"] {
	case "reward":
		out = p.renderReward(f.Theme, v, f.Class, f.Spot, f.Width)
	case "rlhf":
		out = p.renderRLHF(f.Theme, v, f.Spot, f.Width)
	case "reasoning":
		out = p.renderReasoning(f.Theme, v, f.Spot, f.Width)
	default:
		out = p.renderSFT(f.Theme, v, f.Spot, f.Width)
	}
	return ui.FitWidth(out, f.Width)
}

// ptHang wraps s to width less indent cells, indenting every line after the
// first by indent spaces: a labelled item whose text wraps under itself.
func ptHang(s string, width, indent int) string {
	lines := strings.Split(siWrap(s, max(width-indent, 1)), "\n")
	return strings.Join(lines, "\n"+strings.Repeat(" ", indent))
}

// ptSigned formats x with format and writes its minus as "−" (U+2212, one
// cell like "-"), as the chapter's prose and formulas write it, so a
// column of signed numbers reads the same as the text around it.
func ptSigned(format string, x float64) string {
	return strings.ReplaceAll(fmt.Sprintf(format, x), "-", "−")
}

// ptMark is the spotlight marker before a label.
func ptMark(th *ui.Theme, on bool) string {
	if on {
		return th.Focus.Render("▸")
	}
	return " "
}

const sftProse = "A pretrained model continues any text. To make it an assistant, it is " +
	"trained further on conversations written the way we want it to answer, each turn " +
	"wrapped in special tokens that mark who is speaking. The loss is the same " +
	"next-token loss as in pretraining, counted only on the tokens the model should learn to write."

// renderSFT draws the first step: what SFT is, the example chat as real
// tokens with the loss marked, and why the loss covers only the reply.
func (p *Posttrain) renderSFT(th *ui.Theme, v Values, spot string, width int) string {
	all := v["mask"] == "all"
	total, loss := 0, 0
	for _, m := range p.chat {
		for i := range m.tokens {
			total++
			if all || i >= m.header {
				loss++
			}
		}
	}
	// The format is named for what it is: the one OpenAI published for
	// gpt-oss, not a guess at any other model's.
	var head string
	for _, label := range []string{
		" · gpt-oss's published chat format (OpenAI's harmony), o200k IDs  ",
		" · harmony, gpt-oss's published format  ",
		" · gpt-oss's harmony format  ",
	} {
		head = th.Header.Render("1 · Supervised fine-tuning") + th.Subtle.Render(label) + th.Badge(ui.Computed)
		if lipgloss.Width(head) <= width {
			break
		}
	}
	head = siWrap(head, width)

	lossLine := fmt.Sprintf("Loss on %s of %d tokens (%.0f%%)", th.Strong.Render(strconv.Itoa(loss)), total,
		100*float64(loss)/float64(max(total, 1)))
	if all {
		lossLine += ": every token, so it would learn to write the questions too."
	} else {
		lossLine += ": the reply and its <|return|>. The prompt is read, not learned."
	}
	if th.Mono {
		lossLine += " [ ] marks them."
	}
	lossLine = siWrap(lossLine, width)

	chat := p.drawChat(th, all, spot, width)
	why := th.Subtle.Render(siWrap("At answer time the server writes the conversation so far and "+
		"<|start|>assistant; the model writes the rest, including the <|return|> that stops it. "+
		"Training on exactly that part teaches it to answer, and to stop, rather than to imitate users.", width))
	return ui.Column(head, th.Text.Render(siWrap(sftProse, width)), chat+"\n"+lossLine, why)
}

// drawChat lays each turn's tokens out as chips beside the role: tokens in
// the loss on coloured backgrounds, the rest greyed (and, without colour,
// the loss tokens between [ and ]), each row of chips over a line of their
// token IDs: the heading promises o200k IDs, so a short screen scrolls to
// them rather than losing them.
func (p *Posttrain) drawChat(th *ui.Theme, all bool, spot string, width int) string {
	const labelW = 11
	cw := width - labelW
	var lines []string
	for _, m := range p.chat {
		type chip struct {
			top, sub string
			w        int
		}
		var chips []chip
		open := false
		for i, t := range m.tokens {
			inLoss := all || i >= m.header
			if th.Mono && inLoss != open {
				chips = append(chips, chip{top: "[", sub: " ", w: 1})
				open = inLoss
			}
			id := strconv.Itoa(t.id)
			w := min(max(lipgloss.Width(t.text), len(id))+1, cw) // one cell of gap
			top := ui.PadRight(t.text, w)
			sub := ui.PadRight(id, w)
			switch {
			case inLoss:
				bg := th.ChipColors[i%len(th.ChipColors)]
				top = lipgloss.NewStyle().Background(bg).Foreground(th.ChipText).Render(ui.PadRight(t.text, lipgloss.Width(t.text))) +
					strings.Repeat(" ", max(w-lipgloss.Width(t.text), 0))
				sub = lipgloss.NewStyle().Foreground(bg).Render(sub)
			case t.special:
				top = th.Subtle.Render(top)
				sub = th.Muted.Render(sub)
			default:
				top = th.Text.Render(top)
				sub = th.Muted.Render(sub)
			}
			chips = append(chips, chip{top: top, sub: sub, w: w})
		}
		if th.Mono && open {
			chips = append(chips, chip{top: "]", sub: " ", w: 1})
		}
		// Lay out in rows.
		var rows [][]chip
		var row []chip
		used := 0
		for _, c := range chips {
			if used > 0 && used+c.w > cw {
				rows = append(rows, row)
				row, used = nil, 0
			}
			row = append(row, c)
			used += c.w
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
		status := "no loss"
		if all || m.header < len(m.tokens) {
			status = "loss ✓"
		}
		label := []string{ptMark(th, spot == "msg:"+m.role) + th.Strong.Render(m.role), " " + th.Subtle.Render(status)}
		for r, rw := range rows {
			var top, sub strings.Builder
			for _, c := range rw {
				top.WriteString(c.top)
				sub.WriteString(c.sub)
			}
			l1, l2 := "", ""
			if r == 0 {
				l1, l2 = label[0], label[1]
			}
			lines = append(lines, ui.PadRight(l1, labelW)+top.String(), ui.PadRight(l2, labelW)+sub.String())
		}
	}
	return ui.FitWidth(strings.Join(lines, "\n"), width)
}

// rewardProse is the reward step's idea. Its formula's spaces are
// non-breaking (U+00A0), so "P(A beats B)" never wraps in half.
const rewardProse = "Nobody can write down a score for \"helpful\", but people can say which of " +
	"two answers is better. A reward model learns one score per answer so that " +
	"P(A\u00a0beats\u00a0B) = σ(r_A − r_B): the Bradley–Terry model, fitted here to your votes " +
	"(and the class's, when the instructor collects them)."

// ptVotes gathers the comparisons for the fit: the class's votes if there
// are any, else the learner's own picks. It also reports where they came
// from and how many there are.
func (p *Posttrain) ptVotes(v Values, class Tally) (comps []sim.Comparison, fromClass bool, n int) {
	for _, pr := range p.pairs {
		a, b := strings.ToLower(p.responses[pr[0]].letter), strings.ToLower(p.responses[pr[1]].letter)
		for _, w := range []string{a, b} {
			c := class["vote:"+a+b+":"+w]
			if c <= 0 {
				continue
			}
			fromClass = true
			n += c
			win, lose := pr[0], pr[1]
			if w == b {
				win, lose = pr[1], pr[0]
			}
			comps = append(comps, sim.Comparison{Winner: win, Loser: lose, Count: float64(c)})
		}
	}
	if fromClass {
		return comps, true, n
	}
	for _, pr := range p.pairs {
		a, b := strings.ToLower(p.responses[pr[0]].letter), strings.ToLower(p.responses[pr[1]].letter)
		switch v["pick_"+a+b] {
		case a:
			comps = append(comps, sim.Comparison{Winner: pr[0], Loser: pr[1], Count: 1})
			n++
		case b:
			comps = append(comps, sim.Comparison{Winner: pr[1], Loser: pr[0], Count: 1})
			n++
		}
	}
	return comps, false, n
}

// renderReward draws the second step: what a reward model is, the prompt
// and its four answers, the fitted scores beside the votes on each pair,
// and how the fit is made.
func (p *Posttrain) renderReward(th *ui.Theme, v Values, class Tally, spot string, width int) string {
	comps, fromClass, n := p.ptVotes(v, class)
	fit := sim.BradleyTerry(len(p.responses), comps, ptPrior)
	source := "fitted to your " + Count(n, "vote", "votes")
	if fromClass {
		source = "fitted to " + Count(n, "class vote", "class votes")
	}
	if n == 0 {
		source = "no votes yet: pick in the panel"
	}
	head := siWrap(th.Header.Render("2 · Reward model")+th.Subtle.Render(" · Bradley–Terry, "+source+"  ")+th.Badge(ui.Computed), width)

	// The answers are what the class votes on: each wraps under its
	// letter rather than losing its end.
	resp := []string{siWrap(th.Strong.Render("Prompt ")+"My script crashes with KeyError: 'name'. What should I do?", width)}
	for i, r := range p.responses {
		mark := ptMark(th, spot == "resp:"+strings.ToLower(r.letter))
		resp = append(resp, mark+parStageColor(th, i).Bold(true).Render(r.letter)+" "+ptHang(r.text, width, 3))
	}
	responses := strings.Join(resp, "\n")

	// The scores as bars either side of zero.
	limit := 1.0
	for _, s := range fit.Scores {
		limit = max(limit, math.Abs(s))
	}
	scoreW := min(width, 44)
	half := (scoreW - 9) / 2
	var scores []string
	scores = append(scores, th.Header.Render("Score r (mean 0)"))
	for i, r := range p.responses {
		s := fit.Scores[i]
		cells := int(math.Round(math.Abs(s) / limit * float64(half)))
		bar := "█"
		if th.Mono {
			bar = "#"
		}
		left := strings.Repeat(" ", half)
		right := ""
		style := parStageColor(th, i)
		if s < 0 {
			left = strings.Repeat(" ", half-cells) + style.Render(strings.Repeat(bar, cells))
		} else {
			right = style.Render(strings.Repeat(bar, cells))
		}
		line := style.Bold(true).Render(r.letter) + " " + left + th.Subtle.Render("│") + ui.PadRight(right, half) +
			" " + ptSigned("%+.2f", s)
		scores = append(scores, line)
	}
	// The pairs: your pick, the class's votes, what the fit predicts.
	var pairs []string
	pairs = append(pairs, th.Header.Render(fmt.Sprintf("%-7s %-4s %-7s %s", "pair", "you", "class", "P(1st)")))
	for _, pr := range p.pairs {
		a, b := p.responses[pr[0]].letter, p.responses[pr[1]].letter
		key := strings.ToLower(a + b)
		you := strings.ToUpper(v["pick_"+key])
		if you == "NONE" {
			you = "—"
		}
		cl := "—"
		if ca, cb := class["vote:"+key+":"+strings.ToLower(a)], class["vote:"+key+":"+strings.ToLower(b)]; ca > 0 || cb > 0 {
			cl = fmt.Sprintf("%d:%d", max(ca, 0), max(cb, 0))
		}
		pairs = append(pairs, fmt.Sprintf("%-7s %-4s %-7s %.2f", a+" vs "+b, you, cl, sim.WinProb(fit.Scores[pr[0]], fit.Scores[pr[1]])))
	}
	// The pairs beside the scores when both fit across, else one above
	// the other.
	table := strings.Join(pairs, "\n") + "\n\n" + strings.Join(scores, "\n")
	if pairsW := 28; width >= scoreW+pairsW+3 {
		table = joinColumns(strings.Join(pairs, "\n"), strings.Join(scores, "\n"), pairsW+3)
	}

	note := th.Subtle.Render(siWrap(fmt.Sprintf("Each pair also counts %.1f pretend votes each way, so one vote "+
		"cannot send a score to infinity and no votes leave every score at 0. P(1st) is the fit's "+
		"chance that the first of the pair wins: σ(r₁ − r₂). Real reward models are networks that "+
		"read the answer, trained on millions of such votes with this same loss.", ptPrior), width))
	return ui.Column(head, th.Text.Render(siWrap(rewardProse, width)), responses, table, note)
}

// rlhfProse is the RLHF step's idea; the closed form's spaces are
// non-breaking, so it wraps whole.
const rlhfProse = "RLHF lets the model try answers and nudges it toward the ones the reward " +
	"model scores high, while a KL penalty β·KL(π‖π_ref) keeps it close to the SFT model " +
	"π_ref. The best policy under that trade has a closed form: π(y)\u00a0∝\u00a0π_ref(y)·exp(r(y)/β)."

// renderRLHF draws the third step: what RLHF optimises, the candidate
// answers before and after at this β, what that buys and costs, and how
// the trade moves with β.
func (p *Posttrain) renderRLHF(th *ui.Theme, v Values, spot string, width int) string {
	beta := v.Float("beta")
	ref := make([]float64, len(p.rlhf))
	rew := make([]float64, len(p.rlhf))
	qual := make([]float64, len(p.rlhf))
	for i, c := range p.rlhf {
		ref[i], rew[i], qual[i] = c.Ref, c.Reward, c.Quality
	}
	pol := sim.OptimalPolicy(ref, rew, beta)
	head := siWrap(th.Header.Render("3 · RLHF")+th.Subtle.Render(fmt.Sprintf(" · β = %.3g · π(y) ∝ π_ref(y)·exp(r(y)/β)  ", pol.Beta))+
		th.Badge(ui.Computed), width)

	prompt := th.Strong.Render("Prompt ") + "Is it safe to eat raw cookie dough?  " + th.Badge(ui.Illustrative)
	// Columns: marker and label (12), r and true quality (15), then two
	// bars of barW cells, each with a 5-cell percentage, 2 cells apart.
	barW := max((width-39)/2, 4)
	var rows []string
	rows = append(rows, th.Header.Render(fmt.Sprintf("  %-10s %5s %6s  %-*s %s", "answer", "r(y)", "true", barW+5, "π_ref (SFT)", "π (RLHF)")))
	top := 0
	for i := range p.rlhf {
		if pol.Pi[i] > pol.Pi[top] {
			top = i
		}
	}
	bar := func(x float64) string {
		n := int(math.Round(x * float64(barW)))
		if x > 0 && n == 0 {
			n = 1
		}
		ch := "█"
		if th.Mono {
			ch = "#"
		}
		return ui.PadRight(th.Bar.Render(strings.Repeat(ch, n)), barW) + fmt.Sprintf(" %3.0f%%", 100*x)
	}
	for i, c := range p.rlhf {
		label := ui.PadRight(c.Label, 10)
		if i == top {
			label = th.Strong.Render(label)
		}
		rows = append(rows, ptMark(th, spot == "cand:"+c.Label)+" "+label+" "+ptSigned("%+5.1f", c.Reward)+" "+
			ptSigned("%+6.1f", c.Quality)+"  "+bar(pol.Ref[i])+"  "+bar(pol.Pi[i]))
	}
	table := ui.FitWidth(strings.Join(rows, "\n"), width) // a table: its columns line up

	sum := fmt.Sprintf("E[r] %s (SFT %s) · KL %s nats · true quality %s (SFT %s)",
		th.Strong.Render(ptSigned("%+.2f", pol.ExpectedReward)), ptSigned("%+.2f", pol.RefReward),
		th.Strong.Render(fmt.Sprintf("%.2f", pol.KL)),
		th.Strong.Render(ptSigned("%+.2f", sim.Expect(pol.Pi, qual))), ptSigned("%+.2f", sim.Expect(pol.Ref, qual)))
	sum = siWrap(sum, width)

	var verdict string
	switch {
	case p.rlhf[top].Label == "flattering" && pol.Pi[top] > 0.5:
		verdict = th.Warn.Render(siWrap("Reward hacking: on so long a leash (a small β) the policy piles onto the "+
			"flattering answer the reward model overrates. Reward up, real quality down.", width))
	case pol.KL < 0.01:
		verdict = th.Subtle.Render(siWrap("So short a leash (a large β) that the policy barely moves from the SFT "+
			"model: safe, but nothing learned.", width))
	default:
		verdict = th.Subtle.Render(siWrap("The leash holds: the policy favours the genuinely helpful answers "+
			"without drifting far from what the SFT model would say. Lower β, a longer leash, to see it stray.", width))
	}

	sweep := []string{th.Header.Render("    β   E[r]   true    KL") + th.Subtle.Render("   r: the reward model's score, true: how good it is")}
	for _, b := range []float64{0.03, 0.1, 0.3, 1, 3, 10} {
		sp := sim.OptimalPolicy(ref, rew, b)
		sweep = append(sweep, fmt.Sprintf("%5g  %s  %s  %5.2f", b, ptSigned("%+.2f", sp.ExpectedReward),
			ptSigned("%+.2f", sim.Expect(sp.Pi, qual)), sp.KL))
	}
	sweepText := ui.FitWidth(strings.Join(sweep, "\n"), width) // a table: its columns line up

	return ui.Column(head, th.Text.Render(siWrap(rlhfProse, width)), siWrap(prompt, width)+"\n"+table,
		sum+"\n"+verdict, sweepText)
}

const reasoningProse = "Some answers can be checked: a maths result, code that must pass tests. " +
	"Then the reward needs no human. GRPO (DeepSeekMath, Shao et al. 2024) samples a group of " +
	"attempts at each problem, lets a verifier mark each right (1) or wrong (0), and scores every " +
	"attempt against its own group: advantage = (r − mean) / std. A right answer in a mostly wrong " +
	"group is pushed up hard; if all fail, or all pass, every advantage is 0 and the group teaches " +
	"nothing. What training raises is p, the chance that one attempt is right (pass@1)."

// ptTrainSteps and ptLearningRate set the toy training run: long enough,
// at a step size large enough, for p to travel visibly across the screen.
const (
	ptTrainSteps   = 40
	ptLearningRate = 0.5
)

// ptSpark draws xs (each in [0, 1]) as a one-line chart of block heights.
func ptSpark(xs []float64) string {
	const blocks = "▁▂▃▄▅▆▇█"
	levels := []rune(blocks)
	var b strings.Builder
	for _, x := range xs {
		i := int(math.Round(min(max(x, 0), 1) * float64(len(levels)-1)))
		b.WriteRune(levels[i])
	}
	return b.String()
}

// ptAdvantages says what GRPO makes of a group with c of n right: the two
// advantages, or why there are none.
func ptAdvantages(c, n int) string {
	switch c {
	case 0:
		return "advantages all 0: every try failed, so this group has no signal (std 0)"
	case n:
		return "advantages all 0: every try passed, so this group has no signal (std 0)"
	}
	rewards := make([]float64, n)
	for i := range c {
		rewards[i] = 1
	}
	adv := sim.GroupAdvantages(rewards)
	q := float64(c) / float64(n)
	return fmt.Sprintf("advantage (r − mean)/std: each ✓ +%.2f, each ✗ −%.2f (mean %.2f, std %.2f)",
		adv[0], -adv[n-1], q, math.Sqrt(q*(1-q)))
}

// renderReasoning draws the fourth step: what RL on checkable answers is, a
// group of attempts and the signal it gives, the toy training run, pass@k
// at test time, then the estimate, the toy's terms and why compute moved
// to answer time.
func (p *Posttrain) renderReasoning(th *ui.Theme, v Values, spot string, width int) string {
	prob, k, seed := v.Float("p"), v.Int("k"), v.Int("seed")
	head := siWrap(th.Header.Render("4 · Reasoning RL")+th.Subtle.Render(fmt.Sprintf(" · GRPO on verifiable rewards · p = %.2f · k = %d  ", prob, k))+
		th.Badge(ui.Computed), width)

	problem := th.Strong.Render("Problem ") + "What is 17 × 24?   " + th.Strong.Render("Verifier ") + "is the final answer 408?"
	run := sim.VerifierRun(prob, ptTries, uint64(seed))
	var marks strings.Builder
	c := 0
	for _, ok := range run {
		if ok {
			c++
			marks.WriteString(th.BadgeComputed.Render("✓"))
		} else {
			marks.WriteString(th.Warn.Render("✗"))
		}
	}
	tries := fmt.Sprintf("%sA training group of %d (seed %d): %s → %d pass  %s", ptMark(th, spot == "tries"), ptTries, seed,
		marks.String(), c, th.Badge(ui.Illustrative))
	adv := " " + ptAdvantages(c, ptTries)

	// The learning signal and the run it drives.
	signal := fmt.Sprintf(" Groups of %d with any signal: 1 − p^%d − (1 − p)^%d = %s  %s", ptTries, ptTries, ptTries,
		th.Strong.Render(fmt.Sprintf("%.1f%%", 100*sim.GroupSignalChance(prob, ptTries))), th.Badge(ui.Computed))
	steps, final := sim.GRPOToy(prob, ptTries, ptTrainSteps, ptLearningRate, uint64(seed))
	ps := make([]float64, 0, len(steps)+1)
	idle := 0
	for _, st := range steps {
		ps = append(ps, st.P)
		if st.Step == 0 {
			idle++
		}
	}
	ps = append(ps, final)
	spark := ptSpark(ps) + " "
	if lipgloss.Width(spark) > width-20 {
		spark = ""
	}
	verb := "had"
	if idle == 1 {
		verb = "has"
	}
	train := fmt.Sprintf("%sTraining moves p: %s%.2f → %s; %d of %d groups %s no signal  %s", ptMark(th, spot == "train"), spark, prob,
		th.Strong.Render(fmt.Sprintf("%.2f", final)), idle, ptTrainSteps, verb, th.Badge(ui.Illustrative))

	// pass@k bars for a few k, with the chosen k among them.
	ks := []int{1, 4, 16, 64}
	found := false
	for _, x := range ks {
		found = found || x == k
	}
	if !found {
		ks = append(ks, k)
		for i := len(ks) - 1; i > 0 && ks[i] < ks[i-1]; i-- {
			ks[i], ks[i-1] = ks[i-1], ks[i]
		}
	}
	var items []ui.BarItem
	for _, x := range ks {
		pk := sim.PassAtK(prob, x)
		label := fmt.Sprintf(" k=%d", x)
		if x == k {
			label = "▸k=" + strconv.Itoa(x)
		}
		items = append(items, ui.BarItem{Label: label, Value: pk, Text: fmt.Sprintf("%5.1f%%  %d× the tokens", 100*pk, x)})
	}
	bars := th.Bars(items, min(width, 70))
	title := ptMark(th, spot == "passk") + th.Header.Render("Test time: best of k with a verifier, pass@k = 1 − (1 − p)^k") +
		"  " + th.Badge(ui.Computed)
	passk := siWrap(title, width) + "\n" + ui.FitWidth(bars, width)

	kk := min(k, ptTries)
	est := fmt.Sprintf("From the group's %d tries: pass@%d ≈ %.2f = 1 − C(%d,%d)/C(%d,%d) (Chen et al. 2021)",
		ptTries, kk, sim.PassAtKUnbiased(ptTries, c, kk), ptTries-c, kk, ptTries, kk)
	switch {
	case c == 0:
		est = fmt.Sprintf("From the group's %d tries: pass@%d ≈ 0, as none passed (Chen et al. 2021)", ptTries, kk)
	case ptTries-c < kk:
		est = fmt.Sprintf("From the group's %d tries: pass@%d ≈ 1, as any %d of them include a pass", ptTries, kk, kk)
		if kk == 1 {
			est = fmt.Sprintf("From the group's %d tries: pass@1 ≈ 1, as every one passed", ptTries)
		}
	}
	if k > ptTries {
		est += fmt.Sprintf(" (k can be at most %d here)", ptTries)
	}

	toy := th.Subtle.Render(siWrap(fmt.Sprintf("The training run is a toy: a policy with one number, its chance p "+
		"of solving this one problem, trained for %d steps of a group of %d each with the policy gradient "+
		"and GRPO's advantages (step size %.1f, no clipping or KL term). For rewards of 0 and 1 that "+
		"gradient is exactly the group's reward standard deviation, so every mixed group raises p and every "+
		"all-fail or all-pass group leaves it alone. A real model trains on many problems at once, and "+
		"moves billions of weights.", ptTrainSteps, ptTries, ptLearningRate), width))

	// Wrapped with the badge's text in place, then the badge styled.
	shift := siWrap("[illustrative] Why compute moved to answer time: a reasoning model is "+
		"trained to do this trying inside one long answer (think, check, backtrack). More "+
		"thinking tokens buy accuracy that would otherwise take a far bigger model, and the "+
		"cost is paid only on the questions that need it.", width)
	if rest, ok := strings.CutPrefix(shift, "[illustrative]"); ok {
		// Style line by line: a multi-line Render pads every line to the
		// widest, which would push the first past the badge.
		lines := strings.Split(rest, "\n")
		for i, l := range lines {
			lines[i] = th.Subtle.Render(l)
		}
		shift = th.Badge(ui.Illustrative) + strings.Join(lines, "\n")
	}

	wrap := func(s string) string { return siWrap(s, width) }
	return ui.Column(head, th.Text.Render(siWrap(reasoningProse, width)),
		wrap(problem)+"\n"+ptHang(tries, width, 1)+"\n"+ptHang(adv, width, 1)+"\n"+ptHang(signal, width, 1)+"\n"+ptHang(train, width, 1),
		passk, th.Subtle.Render(wrap(est)), toy, shift)
}

// Polls implements Poller. Each question is about one step and is open only
// while that step is on screen (a question on the KL leash means nothing
// over the SFT chat).
func (p *Posttrain) Polls(v Values) []Poll {
	v = Normalize(p.controls, v)
	prob, k := v.Float("p"), v.Int("k")
	return []Poll{
		{
			ID:       "sft-loss",
			Question: "In supervised fine-tuning on a chat, which tokens does the loss count?",
			Kind:     MultipleChoice,
			Choices: []string{
				"Every token of the conversation",
				"The assistant's reply, with its end marker",
				"Only the user's question",
				"Only the last token",
			},
			Correct: 1,
			Explain: "The prompt is read but not learned; the reply, up to the token that stops generation, is what the model must learn to write.",
			When:    "step=sft",
		},
		{
			ID:       "beta-zero",
			Question: "In RLHF, what happens as the KL penalty β goes to 0?",
			Kind:     MultipleChoice,
			Choices: []string{
				"The policy stays at the SFT model",
				"All probability goes to the answer the reward model scores highest",
				"The policy becomes uniform over answers",
				"Training stops changing anything",
			},
			Correct: 1,
			Explain: "π ∝ π_ref·exp(r/β): as β shrinks, the highest r wins outright, including answers the reward model overrates (reward hacking).",
			When:    "step=rlhf",
		},
		{
			ID:       "passk",
			Question: fmt.Sprintf("At test time one attempt is right %.0f%% of the time. With %d attempts and a perfect verifier to pick a right one, how likely is at least one right?", 100*prob, k),
			Kind:     Estimate, Truth: 100 * sim.PassAtK(prob, k), Unit: "%", Min: 0, Max: 100,
			Explain: fmt.Sprintf("pass@k = 1 − (1 − p)^k = 1 − %.2f^%d = %.1f%%: a test-time figure, best of k. RL training raises p itself.", 1-prob, k, 100*sim.PassAtK(prob, k)),
			When:    "step=reasoning",
		},
	}
}
