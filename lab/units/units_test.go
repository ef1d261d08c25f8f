package units

import (
	"strings"
	"testing"
)

var params = Params{Bin: "/opt/gracelab/bin", Listen: "127.0.0.1:18080", User: "gracelab"}

func TestEveryVariantRendersDeterministically(t *testing.T) {
	for _, v := range Catalog {
		a, err := Render(v, params)
		if err != nil {
			t.Fatalf("%s: %v", v.ID(), err)
		}
		b, _ := Render(v, params)
		if len(a) != len(b) || a[0].Text != b[0].Text {
			t.Fatalf("%s renders differently twice", v.ID())
		}
		u := a[0].Text
		if strings.Contains(u, "{{") || strings.Contains(u, "<no value>") {
			t.Fatalf("%s: unrendered template text:\n%s", v.ID(), u)
		}
		if !strings.Contains(u, "User=gracelab") || !strings.Contains(u, "ExecStart=/opt/gracelab/bin/") {
			t.Fatalf("%s: missing user or binary path:\n%s", v.ID(), u)
		}
		want := 1
		if v.EnvFile {
			want++
		}
		if v.Socket {
			want++
		}
		if len(a) != want {
			t.Fatalf("%s: %d files, want %d", v.ID(), len(a), want)
		}
	}
}

func TestEveryTemplateBelongsToAVariant(t *testing.T) {
	entries, _ := files.ReadDir(".")
	known := map[string]bool{}
	for _, v := range Catalog {
		known[v.Server+"/"+v.Name+".service"] = true
		if v.EnvFile {
			known[v.Server+"/"+v.Name+".env"] = true
		}
		if v.Socket {
			known[v.Server+"/"+v.Name+".socket"] = true
		}
	}
	for _, d := range entries {
		sub, _ := files.ReadDir(d.Name())
		for _, f := range sub {
			if p := d.Name() + "/" + f.Name(); !known[p] {
				t.Errorf("template %s is in no catalog entry", p)
			}
		}
	}
}

func TestFindErrorsListValidNames(t *testing.T) {
	if _, err := Find("nginx", "x"); err == nil || !strings.Contains(err.Error(), "grace, starter, plain, tableflip, socket") {
		t.Fatalf("unknown server: %v", err)
	}
	if _, err := Find("grace", "nope"); err == nil || !strings.Contains(err.Error(), "envfile, mainpid, pidfile, pidfile-env, specifier") {
		t.Fatalf("unknown variant: %v", err)
	}
	if v, err := Find("starter", "hup"); err != nil || v.UnitName() != "gracelab-starter-hup.service" {
		t.Fatalf("Find(starter, hup) = %v, %v", v, err)
	}
}
