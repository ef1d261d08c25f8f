package host

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gracelab/gracelab/lab/catalog"
)

func TestProfilesTrimSpaces(t *testing.T) {
	t.Setenv("GRACELAB_PROFILES", " keepalive , new-conn")
	o, err := OptionsFromEnv("/repo")
	if err != nil || !slices.Equal(o.Profiles, []string{"keepalive", "new-conn"}) {
		t.Fatalf("%v %v", o.Profiles, err)
	}
}

// experiment:list's columns never run into each other, even for the
// longest variant name.
func TestListSeparatesColumns(t *testing.T) {
	var b bytes.Buffer
	List(&b)
	out := b.String()
	for _, v := range catalog.Variants() {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(v.Server) + `  +` + regexp.QuoteMeta(v.Name) + `  +systemctl ` + v.Action + `  +\S`).MatchString(out) {
			t.Errorf("no row of %s with its columns apart:\n%s", v.ID(), out)
		}
	}
}

// The help mage prints with -l is for users: no notes about the code or
// the project's issues, and experiment:reload names every server.
func TestMagefileHelp(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "../../magefile.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	docs := []string{f.Doc.Text()}
	for _, d := range f.Decls {
		if text := declDoc(d); text != "" {
			docs = append(docs, text)
		}
	}
	internal := regexp.MustCompile(`(?i)\bissue\b|#\d+|no logic lives|TODO|package `)
	for _, d := range docs {
		if m := internal.FindString(d); m != "" {
			t.Errorf("help text has an internal note (%q): %s", m, d)
		}
	}
	src, err := os.ReadFile("../../magefile.go")
	if err != nil {
		t.Fatal(err)
	}
	var reload string
	for _, l := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(l, "// Reload runs") {
			reload = l
		}
	}
	for _, s := range catalog.Servers() {
		if !strings.Contains(reload, " "+s.Name) {
			t.Errorf("experiment:reload's help does not name the server %s (add it in magefile.go): %q", s.Name, reload)
		}
	}
}

func declDoc(d ast.Decl) string {
	switch d := d.(type) {
	case *ast.FuncDecl:
		return d.Doc.Text()
	case *ast.GenDecl:
		return d.Doc.Text()
	}
	return ""
}
