package bench

import (
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// plotReport is the part of the JSON report the plots draw. Plots are made from
// the JSON, not from the run's values, so a report kept from an earlier run can be
// drawn again the same way.
type plotReport struct {
	Scale     string `json:"scale"`
	Date      string `json:"date"`
	Scenarios struct {
		Propagation *propagationResult `json:"propagation"`
		Rollout     *rolloutResult     `json:"rollout"`
		Growth      *growthResult      `json:"memory_growth"`
	} `json:"scenarios"`
}

var (
	courierColor  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	baselineColor = color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}
	heapColor     = color.RGBA{R: 0xd6, G: 0x61, B: 0x1f, A: 0xff}
)

// WritePlots draws the SVG plots of a JSON report into dir and returns the files
// written: copies over time for Courier and the raw-client baseline (fan-out,
// update), rollout template changes over time, and memory against the number of
// unrelated Secrets and ConfigMaps. A plot whose scenario did not run is left out.
func WritePlots(report []byte, dir string) ([]string, error) {
	var r plotReport
	if err := json.Unmarshal(report, &r); err != nil {
		return nil, fmt.Errorf("reading the report: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var plots []struct {
		name string
		p    *plot.Plot
	}
	add := func(name string, p *plot.Plot, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		plots = append(plots, struct {
			name string
			p    *plot.Plot
		}{name, p})
		return nil
	}
	subtitle := fmt.Sprintf(" (%s, %s)", r.Scale, r.Date)
	if pr := r.Scenarios.Propagation; pr != nil {
		p, err := arrivals(fmt.Sprintf("Fan-out: one Secret to %d namespaces", pr.Namespaces)+subtitle, "copies", pr.Fanout, pr.BaselineCreate)
		if err := add("fanout.svg", p, err); err != nil {
			return nil, err
		}
		p, err = arrivals(fmt.Sprintf("Update: the Secret changes, %d copies", pr.Namespaces)+subtitle, "copies updated", pr.Update, pr.BaselineUpdate)
		if err := add("update.svg", p, err); err != nil {
			return nil, err
		}
	}
	if ro := r.Scenarios.Rollout; ro != nil {
		p, err := arrivals(fmt.Sprintf("Rollout: %d Deployments share one ConfigMap, which changes once", ro.Deployments)+subtitle,
			"Deployments rolled (template changed)", ro.Rollout, latency{})
		if err := add("rollout.svg", p, err); err != nil {
			return nil, err
		}
	}
	if g := r.Scenarios.Growth; g != nil && len(g.Points) > 0 {
		p, err := growth("Memory against Secrets and ConfigMaps Courier does not manage"+subtitle, g)
		if err := add("memory-unrelated.svg", p, err); err != nil {
			return nil, err
		}
	}
	var files []string
	for _, pl := range plots {
		path := filepath.Join(dir, pl.name)
		if err := pl.p.Save(7*vg.Inch, 4*vg.Inch, path); err != nil {
			return nil, fmt.Errorf("%s: %w", pl.name, err)
		}
		files = append(files, path)
	}
	return files, nil
}

// curve returns l's arrivals as points (seconds, objects arrived), from (0, 0).
func curve(l latency) plotter.XYs {
	xys := plotter.XYs{{X: 0, Y: 0}}
	for k, s := range l.CurveS {
		xys = append(xys, plotter.XY{X: s, Y: float64(k+1) * float64(l.Count) / float64(len(l.CurveS))})
	}
	return xys
}

// arrivals plots objects over time for Courier, and for the raw-client baseline
// when it has one.
func arrivals(title, what string, courier, baseline latency) (*plot.Plot, error) {
	if len(courier.CurveS) == 0 {
		return nil, fmt.Errorf("no arrival curve in the report (a report from before plots were drawn?)")
	}
	p := newPlot(title, "seconds after the change", what)
	if err := line(p, "Courier", curve(courier), courierColor, false); err != nil {
		return nil, err
	}
	if len(baseline.CurveS) > 0 {
		if err := line(p, "raw client, same writes, 16 in flight", curve(baseline), baselineColor, true); err != nil {
			return nil, err
		}
	}
	p.Legend.Left, p.Legend.Top = false, false
	return p, nil
}

// growth plots steady RSS and heap in use against the unrelated objects.
func growth(title string, g *growthResult) (*plot.Plot, error) {
	p := newPlot(title, "unrelated Secrets + ConfigMaps in the cluster", "MiB")
	rss, heap := make(plotter.XYs, len(g.Points)), make(plotter.XYs, len(g.Points))
	for i, pt := range g.Points {
		x := float64(pt.Secrets + pt.ConfigMaps)
		rss[i] = plotter.XY{X: x, Y: float64(pt.SteadyRSS) / (1 << 20)}
		heap[i] = plotter.XY{X: x, Y: pt.HeapInuse / (1 << 20)}
	}
	if err := line(p, "steady RSS", rss, courierColor, false); err != nil {
		return nil, err
	}
	if err := line(p, "Go heap in use", heap, heapColor, false); err != nil {
		return nil, err
	}
	p.Y.Min = 0
	p.Legend.Top = true
	return p, nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Min, p.Y.Min = 0, 0
	p.Add(plotter.NewGrid())
	return p
}

// line adds a line with its points to p, and to the legend.
func line(p *plot.Plot, name string, xys plotter.XYs, c color.Color, dashed bool) error {
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.Color, l.Width = c, vg.Points(1.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	s.Color, s.Radius, s.Shape = c, vg.Points(1.5), draw.CircleGlyph{}
	if len(xys) > 12 {
		s.Radius = 0 // a hundred points read as a line
	}
	p.Add(l, s)
	p.Legend.Add(name, l)
	return nil
}
