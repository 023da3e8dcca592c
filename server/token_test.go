package server

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestTokenSurvivesRestart: the token is kept in the data folder, owner-only,
// so a restart mid-class does not lock the instructor out; asking for a new
// one replaces it.
func TestTokenSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	first, err := loadToken(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	again, err := loadToken(dir, false)
	if err != nil || again != first {
		t.Fatalf("after a restart the token is %q (%v), want %q", again, err, first)
	}
	st, err := os.Stat(filepath.Join(dir, tokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", st.Mode().Perm())
	}
	fresh, err := loadToken(dir, true)
	if err != nil || fresh == first || !tokenShape.MatchString(fresh) {
		t.Errorf("a new token: %q (%v), the old one %q", fresh, err, first)
	}
	if kept, _ := loadToken(dir, false); kept != fresh {
		t.Errorf("the new token was not kept: %q, want %q", kept, fresh)
	}
	os.WriteFile(filepath.Join(dir, tokenFile), []byte("not a token"), 0o600)
	if made, _ := loadToken(dir, false); !tokenShape.MatchString(made) {
		t.Errorf("a damaged token file gave %q", made)
	}
}

// TestJoinHosts: the join line a teacher puts on the projector names a host
// the students can reach: never "localhost" when the server listens on
// every interface.
func TestJoinHosts(t *testing.T) {
	if got := joinHosts("127.0.0.1:2222"); !slices.Equal(got, []string{"localhost"}) {
		t.Errorf("loopback: %v", got)
	}
	if got := joinHosts("192.0.2.7:2222"); !slices.Equal(got, []string{"192.0.2.7"}) {
		t.Errorf("one address: %v", got)
	}
	all := joinHosts("0.0.0.0:2222")
	name, _ := os.Hostname()
	for _, h := range all {
		if ip := net.ParseIP(h); h == "localhost" && name != "localhost" || ip != nil && ip.IsLoopback() {
			t.Errorf("every interface: %v names a loopback host", all)
		}
	}
	if name != "" && name != "localhost" && all[0] != name {
		t.Errorf("every interface: %v, want the host name %q first", all, name)
	}
}
