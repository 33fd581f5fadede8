package manifest

import "testing"

// TestDecodeYAMLAndJSONStreams covers both kinds of input the hack/ tools decode:
// YAML streams (kustomize, helm, files) with empty documents, and concatenated
// JSON objects (opm render).
func TestDecodeYAMLAndJSONStreams(t *testing.T) {
	for name, in := range map[string]string{
		"yaml": "---\n# only a comment\n---\nkind: A\nmetadata:\n  name: a\n---\n\n---\nkind: B\n",
		"json": "{\"kind\": \"A\", \"metadata\": {\"name\": \"a\"}}\n{}\n{\"kind\": \"B\"}\n",
	} {
		objs, err := Decode([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(objs) != 2 || objs[0].GetKind() != "A" || objs[0].GetName() != "a" || objs[1].GetKind() != "B" {
			t.Errorf("%s: decoded %v", name, objs)
		}
	}
}
