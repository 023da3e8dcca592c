package lessons

import (
	"fmt"
	"strings"

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

// The lesson contract and the optional parts of it that Posttrain keeps,
// checked by the compiler here, so a renamed method cannot drop one unseen.
var (
	_ Lesson     = (*Posttrain)(nil)
	_ Activity   = (*Posttrain)(nil)
	_ Spotter    = (*Posttrain)(nil)
	_ Poller     = (*Posttrain)(nil)
	_ KeyFigurer = (*Posttrain)(nil)
)

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
		meta: meta{id: "posttrain", number: 6, title: "Teaching it to be helpful", route: "teaching it to help",
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

// KeyFigure implements KeyFigurer: pass@k at the reasoning step's p and k.
// pass@k is a test-time figure (best of k, a verifier picking a right
// try), not what RL training does, which is raise p: the fact says so, as
// the step's "Test time: best of k with a verifier" does.
func (p *Posttrain) KeyFigure(v Values) KeyFigure {
	v = Normalize(p.controls, v)
	prob, k := v.Float("p"), v.Int("k")
	figure := fmt.Sprintf("%.1f%%", 100*sim.PassAtK(prob, k))
	return KeyFigure{
		Idea: "Fine-tuning, rewards and RL turn a next-word predictor into an assistant.",
		Fact: fmt.Sprintf("Test time, best of %d with a verifier: if one try is right %.0f%% of the time, "+
			"at least one of %s is right %s of the time (pass@%d). RL training raises the %.0f%% itself.",
			k, 100*prob, Count(k, "checked try", "checked tries"), figure, k, 100*prob),
		Figure: figure, Badge: ui.Computed,
	}
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
