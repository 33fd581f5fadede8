package firstn

import "testing"

func TestJoin(t *testing.T) {
	for _, tc := range []struct {
		entries []string
		most    int
		want    string
	}{
		{nil, 3, ""},
		{[]string{"a"}, 3, "a"},
		{[]string{"a", "b", "c"}, 3, "a; b; c"},
		{[]string{"a", "b", "c", "d", "e"}, 3, "a; b; c; and 2 more"},
		{[]string{"a", "b"}, 0, "and 2 more"},
	} {
		if got := Join(tc.entries, tc.most, "; "); got != tc.want {
			t.Errorf("Join(%q, %d) = %q, want %q", tc.entries, tc.most, got, tc.want)
		}
	}
}
