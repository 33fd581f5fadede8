package workloadrefs

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	cases := []struct {
		in      string
		want    []Ref
		wantErr bool
	}{
		{in: "", want: nil},
		{in: " , ,", want: nil},
		{in: "configmap/foo,secret/bar", want: []Ref{{ConfigMap, "foo"}, {Secret, "bar"}}},
		{in: " Secret/b , CM/a, configmaps/a ,secrets/b,", want: []Ref{{ConfigMap, "a"}, {Secret, "b"}}},
		{in: "configmap/foo,pod/x", want: []Ref{{ConfigMap, "foo"}}, wantErr: true},
		{in: "configmap/", wantErr: true},
		{in: "foo", wantErr: true},
		{in: "secret/a/b", wantErr: true},
		{in: "secret/Bad_Name", wantErr: true},
	}
	for _, c := range cases {
		got, err := ParseList(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("ParseList(%q) error = %v, wantErr %v", c.in, err, c.wantErr)
		}
		if len(got) == 0 && len(c.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseList(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestParseListBoundsEntries(t *testing.T) {
	in := strings.Repeat("configmap/a,", maxListEntries+10)
	got, err := ParseList(in)
	if err == nil {
		t.Fatal("want an error past the entry limit")
	}
	if len(got) != 1 {
		t.Fatalf("got %v", got)
	}
}

func TestFormatListRoundTrip(t *testing.T) {
	refs := []Ref{{Secret, "b"}, {ConfigMap, "a"}, {Secret, "b"}}
	s := FormatList(refs)
	if s != "configmap/a,secret/b" {
		t.Fatalf("FormatList = %q", s)
	}
	back, err := ParseList(s)
	if err != nil || !reflect.DeepEqual(back, []Ref{{ConfigMap, "a"}, {Secret, "b"}}) {
		t.Fatalf("round trip = %v, %v", back, err)
	}
}
