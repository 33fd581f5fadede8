package markers

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/operator-framework/api/pkg/operators/v1alpha1"
)

// Kind is what the markers say about one API kind: the parts of its CSV owned-CRD
// entry that come from the Go source.
type Kind struct {
	// Kind is the Go type name, which is the API kind.
	Kind string
	// DisplayName comes from the type marker's displayName.
	DisplayName string
	// Description is the type's doc comment without markers.
	Description string
	// Resources are the kinds the operator creates for this kind (resources=...).
	Resources []v1alpha1.APIResourceReference
	// SpecDescriptors and StatusDescriptors are the marked fields under spec and
	// status, in declaration order, depth first.
	SpecDescriptors   []v1alpha1.SpecDescriptor
	StatusDescriptors []v1alpha1.StatusDescriptor
}

// typeInfo is a struct type declared in the scanned package.
type typeInfo struct {
	doc    *ast.CommentGroup
	fields *ast.FieldList
}

// Scan parses the Go files of one API package directory and returns every root
// kind that carries a type-level CSV marker, sorted by kind.
func Scan(dir string) ([]Kind, error) {
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	types := map[string]typeInfo{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") || strings.HasPrefix(filepath.Base(p), "zz_generated") {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, p, src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				doc := ts.Doc
				if doc == nil {
					doc = gd.Doc
				}
				types[ts.Name.Name] = typeInfo{doc: doc, fields: st.Fields}
			}
		}
	}

	var kinds []Kind
	for name, t := range types {
		m, err := markerOf(t.doc)
		if err != nil {
			return nil, fmt.Errorf("type %s: %w", name, err)
		}
		if m == nil {
			continue
		}
		k := Kind{Kind: name, DisplayName: unquote(m["displayName"]), Description: docText(t.doc)}
		if v, ok := m["resources"]; ok {
			refs, err := resourceList(v)
			if err != nil {
				return nil, fmt.Errorf("type %s: %w", name, err)
			}
			for _, r := range refs {
				ref := v1alpha1.APIResourceReference{Kind: r[0], Version: r[1]}
				if len(r) == 3 {
					ref.Name = r[2]
				} else {
					ref.Name = strings.ToLower(r[0]) + "s"
				}
				k.Resources = append(k.Resources, ref)
			}
		}
		w := walker{types: types}
		for _, f := range t.fields.List {
			section := jsonName(f)
			if section != "spec" && section != "status" {
				continue
			}
			if err := w.walk(&k, section, typeName(f.Type), ""); err != nil {
				return nil, fmt.Errorf("type %s: %w", name, err)
			}
		}
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].Kind < kinds[j].Kind })
	return kinds, nil
}

// walker descends from a spec or status type through the package's struct types.
type walker struct {
	types map[string]typeInfo
}

// walk adds the descriptors of the fields of struct type tn under path prefix to k.
func (w walker) walk(k *Kind, section, tn, prefix string) error {
	t, ok := w.types[tn]
	if !ok {
		return nil // a type from another package (metav1.Time, Condition): a leaf here
	}
	for _, f := range t.fields.List {
		name := jsonName(f)
		if name == "" {
			continue
		}
		path := prefix + name
		m, err := markerOf(f.Doc)
		if err != nil {
			return fmt.Errorf("field %s: %w", path, err)
		}
		if m != nil {
			typ := unquote(m["type"])
			if typ != section {
				return fmt.Errorf("field %s under %s is marked type=%q", path, section, typ)
			}
			display := unquote(m["displayName"])
			x := stringList(m["xDescriptors"])
			desc := docText(f.Doc)
			switch section {
			case "spec":
				k.SpecDescriptors = append(k.SpecDescriptors, v1alpha1.SpecDescriptor{
					Path: path, DisplayName: display, Description: desc, XDescriptors: x})
			case "status":
				k.StatusDescriptors = append(k.StatusDescriptors, v1alpha1.StatusDescriptor{
					Path: path, DisplayName: display, Description: desc, XDescriptors: x})
			}
		}
		child := path + "."
		if isSlice(f.Type) {
			child = path + "[0]."
		}
		if err := w.walk(k, section, typeName(f.Type), child); err != nil {
			return err
		}
	}
	return nil
}

// markerOf returns the CSV marker in a comment group, nil when there is none.
func markerOf(doc *ast.CommentGroup) (marker, error) {
	if doc == nil {
		return nil, nil
	}
	for _, c := range doc.List {
		line := strings.TrimSpace(strings.TrimPrefix(c.Text, "//"))
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			return parseMarker(rest)
		}
	}
	return nil, nil
}

// docText is a comment group's prose: marker lines dropped, lines joined by spaces.
func docText(doc *ast.CommentGroup) string {
	if doc == nil {
		return ""
	}
	var words []string
	for _, c := range doc.List {
		line := strings.TrimSpace(strings.TrimPrefix(c.Text, "//"))
		if strings.HasPrefix(line, "+") || line == "" {
			continue
		}
		words = append(words, line)
	}
	return strings.Join(words, " ")
}

// jsonName is the field's JSON name; "" for inline, ignored or unexported fields.
func jsonName(f *ast.Field) string {
	if f.Tag == nil || len(f.Names) == 0 {
		return ""
	}
	tag, err := strconv.Unquote(f.Tag.Value)
	if err != nil {
		return ""
	}
	name, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
	if name == "-" {
		return ""
	}
	return name
}

// typeName is the name of the local type behind pointers and slices; "" for
// qualified (other package) or map types.
func typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.StarExpr:
		return typeName(t.X)
	case *ast.ArrayType:
		return typeName(t.Elt)
	default:
		return ""
	}
}

// isSlice reports whether the field is a slice (possibly of pointers).
func isSlice(e ast.Expr) bool {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	a, ok := e.(*ast.ArrayType)
	return ok && a.Len == nil
}
