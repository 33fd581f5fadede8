package migrate

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/courier-operator/courier/controllers/rollout"
	"github.com/courier-operator/courier/internal/workloadrefs"
)

// Reloader's annotations, as its annotation reference documents them
// (docs.stakater.com/reloader, reference/annotations).
const (
	rlDomain = "reloader.stakater.com"

	rlAuto              = "reloader.stakater.com/auto"
	rlSearch            = "reloader.stakater.com/search"
	rlMatch             = "reloader.stakater.com/match"
	rlIgnore            = "reloader.stakater.com/ignore"
	rlRolloutStrategy   = "reloader.stakater.com/rollout-strategy"
	rlLastReloadedFrom  = "reloader.stakater.com/last-reloaded-from"
	rlConfigMapAuto     = "configmap.reloader.stakater.com/auto"
	rlSecretAuto        = "secret.reloader.stakater.com/auto"
	rlConfigMapReload   = "configmap.reloader.stakater.com/reload"
	rlSecretReload      = "secret.reloader.stakater.com/reload"
	rlConfigMapsExclude = "configmaps.exclude.reloader.stakater.com/reload"
	rlSecretsExclude    = "secrets.exclude.reloader.stakater.com/reload"
	rlSPCAuto           = "secretproviderclass.reloader.stakater.com/auto"
	rlSPCReload         = "secretproviderclass.reloader.stakater.com/reload"
	rlSPCExclude        = "secretproviderclasses.exclude.reloader.stakater.com/reload"
	rlPausePeriod       = "deployment.reloader.stakater.com/pause-period"
	rlPausedAt          = "deployment.reloader.stakater.com/paused-at"
)

// reloaderInputKind is what Reloader reads about one kind of input (ConfigMap or
// Secret) on a workload.
type reloaderInputKind struct {
	kind      workloadrefs.Kind
	typedAuto string // follow every referenced object of this kind
	reload    string // follow these names (regular expressions), referenced or not
	exclude   string // never follow these names (exact)
}

var reloaderInputKinds = []reloaderInputKind{
	{workloadrefs.ConfigMap, rlConfigMapAuto, rlConfigMapReload, rlConfigMapsExclude},
	{workloadrefs.Secret, rlSecretAuto, rlSecretReload, rlSecretsExclude},
}

// podTemplatePaths are the workload kinds Reloader rolls that Courier rolls too,
// with where their pod template is. Reloader also handles Jobs (it re-creates
// them), which Courier does not roll.
var podTemplatePaths = map[schema.GroupKind][]string{
	{Group: "apps", Kind: "Deployment"}:                    {"spec", "template"},
	{Group: "apps", Kind: "StatefulSet"}:                   {"spec", "template"},
	{Group: "apps", Kind: "DaemonSet"}:                     {"spec", "template"},
	{Group: "batch", Kind: "CronJob"}:                      {"spec", "jobTemplate", "spec", "template"},
	{Group: "argoproj.io", Kind: "Rollout"}:                {"spec", "template"},
	{Group: "apps.openshift.io", Kind: "DeploymentConfig"}: {"spec", "template"},
}

// reloaderKeys returns the Reloader annotation keys of ann, sorted: every key in
// Reloader's domain, its subdomains included (secret.reloader.stakater.com/...).
func reloaderKeys(ann map[string]string) []string {
	var keys []string
	for k := range ann {
		prefix, _, ok := strings.Cut(k, "/")
		if ok && (prefix == rlDomain || strings.HasSuffix(prefix, "."+rlDomain)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// reloader converts Reloader's annotations on workloads and on their inputs.
func (b *builder) reloader() {
	for _, o := range b.objs {
		ref := RefOf(o)
		if isCoreSecretOrConfigMap(ref.APIVersion, ref.Kind) {
			b.reloaderInput(o)
			continue
		}
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil {
			continue
		}
		path := podTemplatePaths[gv.WithKind(ref.Kind).GroupKind()]
		var tplAnn map[string]string
		if path != nil {
			tplAnn, _, _ = unstructured.NestedStringMap(o.Object, append(slices.Clone(path), "metadata", "annotations")...)
		}
		metaKeys, tplKeys := reloaderKeys(o.GetAnnotations()), reloaderKeys(tplAnn)
		if len(metaKeys)+len(tplKeys) == 0 {
			continue
		}
		if path == nil {
			why := ""
			if ref.Kind == "Job" {
				why = " (Reloader re-creates a Job; Courier never does)"
			}
			for _, k := range append(metaKeys, tplKeys...) {
				b.find(ref, PeerReloader, k, SeverityUnsupported,
					"Courier rolls Deployments, StatefulSets, DaemonSets, CronJobs, Argo Rollouts, OpenShift DeploymentConfigs and kinds with a pod template declared with --rollout-kind, not a %s%s; nothing was converted and the annotation is kept",
					ref.Kind, why)
			}
			continue
		}
		if ref.Kind == "Rollout" {
			if wr, ok, _ := unstructured.NestedMap(o.Object, "spec", "workloadRef"); ok {
				name, _ := wr["name"].(string)
				kind, _ := wr["kind"].(string)
				for _, k := range metaKeys {
					b.find(ref, PeerReloader, k, SeverityUnsupported,
						"this Rollout takes its pod template from %s %s (spec.workloadRef), so neither Reloader nor Courier can roll it by itself; nothing was converted: label %s %s with %s: \"true\" instead, and Argo makes a new revision when Courier changes that template",
						kind, name, kind, name, rollout.LabelOptIn)
				}
				continue
			}
		}
		specMap, _, _ := unstructured.NestedMap(o.Object, append(slices.Clone(path), "spec")...)
		var spec corev1.PodSpec
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(specMap, &spec); err != nil {
			for _, k := range metaKeys {
				b.find(ref, PeerReloader, k, SeverityUnsupported,
					"the pod template could not be read (%v), so what it references is unknown; nothing was converted", err)
			}
			continue
		}
		b.reloaderWorkload(o, ref, &spec, tplAnn, metaKeys, tplKeys)
	}
}

// reloaderWorkload converts one workload. Reloader decides per changed input; the
// set of inputs that roll the workload is therefore computed here input by input,
// with Reloader's own order of checks (common.ShouldReload): an ignored input or
// one named in an exclude annotation never rolls it; one matching a reload list
// always does, referenced or not; a referenced one does under auto (or the typed
// auto of its kind), or in search mode when it carries match. Courier then follows
// exactly that set: the template's references minus rollout-exclude-refs, plus
// rollout-extra-refs for listed inputs the template does not reference.
func (b *builder) reloaderWorkload(o *unstructured.Unstructured, ref ObjectRef, spec *corev1.PodSpec, tplAnn map[string]string, metaKeys, tplKeys []string) {
	wl := o.GetAnnotations()
	refs, _ := workloadrefs.Collect(spec, "", "")
	referenced := map[workloadrefs.Ref]bool{}
	for _, r := range refs {
		referenced[r.Ref] = true
	}
	var follow, extra, exclude []workloadrefs.Ref
	keep := map[string]bool{} // metadata annotations the plan does not take over
	asked := false            // the annotations ask Reloader to roll the workload for something
	autoAny := false          // auto (or a typed auto) holds for some kind: opt in, whatever is referenced now
	for _, k := range reloaderInputKinds {
		// Reloader reads the pod template's annotations instead of the workload's
		// when the workload has none of the keys deciding this kind.
		ann := wl
		if !hasAny(wl, k.reload, rlAuto, k.typedAuto, rlSearch) && hasAny(tplAnn, k.reload, rlAuto, k.typedAuto, rlSearch) {
			ann = tplAnn
		}
		auto := parseBool(ann[rlAuto]) || parseBool(ann[k.typedAuto])
		search := ann[rlSearch] == "true"
		asked = asked || auto || search || len(splitList(ann[k.reload])) > 0
		autoAny = autoAny || auto
		excluded := map[string]bool{}
		for _, n := range splitList(wl[k.exclude]) {
			excluded[n] = true
		}
		list := b.reloadList(ref, k.reload, ann[k.reload], string(k.kind))
		if list.leftOut && len(list.names) == 0 && len(list.literal) == 0 && ann[k.reload] == wl[k.reload] {
			keep[k.reload] = true
		}
		ignored := func(name string) bool {
			in := b.input(ref.Namespace, string(k.kind), name)
			return in != nil && in.GetAnnotations()[rlIgnore] == "true"
		}
		for _, r := range refs {
			if r.Kind != k.kind {
				continue
			}
			switch {
			case ignored(r.Name), excluded[r.Name]:
				exclude = append(exclude, r.Ref)
			case list.matches(r.Name), auto:
				follow = append(follow, r.Ref)
			case search:
				in := b.input(ref.Namespace, string(k.kind), r.Name)
				switch {
				case in == nil:
					follow = append(follow, r.Ref)
					b.find(ref, PeerReloader, rlSearch, SeverityApproximate,
						"in search mode Reloader rolls this workload only for inputs carrying %s: \"true\"; %s is not in the input, so whether it does is unknown, and Courier follows it: add it to %s if it did not carry match",
						rlMatch, r, rollout.AnnotationExcludeRefs)
				case in.GetAnnotations()[rlMatch] == "true":
					follow = append(follow, r.Ref)
				default:
					exclude = append(exclude, r.Ref)
				}
			default:
				exclude = append(exclude, r.Ref)
			}
		}
		for _, name := range list.candidates() {
			r := workloadrefs.Ref{Kind: k.kind, Name: name}
			if referenced[r] || ignored(name) || excluded[name] {
				continue
			}
			extra = append(extra, r)
			if b.knowsInputs(ref.Namespace, string(k.kind)) && b.input(ref.Namespace, string(k.kind), name) == nil {
				b.find(ref, PeerReloader, k.reload, SeverityUnsafe,
					"%s is listed but not in the input: Reloader ignored a listed input that does not exist, Courier treats %s entries as required and holds every rollout of this workload while one is missing (a MissingInput event); create it or drop it from %s",
					r, rollout.AnnotationExtraRefs, rollout.AnnotationExtraRefs)
			}
		}
	}

	c := b.change(ref, PeerReloader)
	// Under auto, Reloader follows whatever the template references, now or after
	// a later edit: so does an opted-in workload, even one referencing nothing yet.
	optedIn := len(follow)+len(extra) > 0 || autoAny
	if optedIn {
		c.setLabel(rollout.LabelOptIn, "true")
		if v := mergeRefList(wl[rollout.AnnotationExtraRefs], extra); v != "" {
			c.setAnnotation(rollout.AnnotationExtraRefs, v)
		}
		if v := mergeRefList(wl[rollout.AnnotationExcludeRefs], exclude); v != "" {
			c.setAnnotation(rollout.AnnotationExcludeRefs, v)
		}
	} else if asked {
		b.find(ref, PeerReloader, firstTrigger(metaKeys, tplKeys), SeverityApproximate,
			"with these annotations Reloader rolls this workload for none of the ConfigMaps and Secrets it consumes now, so it is not opted in to Courier; label it %s: \"true\" if it should roll", rollout.LabelOptIn)
	}

	for _, k := range metaKeys {
		if keep[k] {
			continue
		}
		switch k {
		case rlAuto, rlSearch, rlConfigMapAuto, rlSecretAuto, rlConfigMapReload, rlSecretReload, rlConfigMapsExclude, rlSecretsExclude, rlLastReloadedFrom:
			c.remove(k)
		case rlRolloutStrategy:
			c.remove(k)
			if ref.Kind == "Rollout" && wl[k] == "restart" && optedIn {
				// Reloader sets spec.restartAt (Argo's own restart); so does Courier.
				c.setAnnotation(rollout.AnnotationStrategy, "restart")
			}
		case rlPausePeriod:
			b.reloaderPausePeriod(c, ref, wl[k], optedIn)
		case rlPausedAt:
			if paused, _, _ := unstructured.NestedBool(o.Object, "spec", "paused"); paused && ref.Kind == "Deployment" {
				b.find(ref, PeerReloader, k, SeverityUnsafe,
					"Reloader paused this Deployment (spec.paused) at %s for its pause period and resumes it when the period ends; removed before then (or with Reloader uninstalled) it stays paused and rolls nothing: wait until it is resumed, or run kubectl rollout resume; the annotation is kept meanwhile",
					wl[k])
				continue
			}
			c.remove(k)
		case rlMatch, rlIgnore:
			c.remove(k)
			b.find(ref, PeerReloader, k, SeverityApproximate,
				"Reloader reads this annotation on ConfigMaps and Secrets only; on a %s it did nothing and is removed", ref.Kind)
		case rlSPCAuto, rlSPCReload, rlSPCExclude:
			b.find(ref, PeerReloader, k, SeverityUnsupported,
				"Courier does not follow Secrets Store CSI SecretProviderClasses, only ConfigMaps and Secrets; nothing was converted and the annotation is kept, so Reloader keeps doing this until it is uninstalled (a Secret synced by the CSI driver, secretObjects, is followed like any Secret)")
		default:
			b.find(ref, PeerReloader, k, SeverityUnsupported,
				"Reloader's annotation reference does not document this key; nothing was converted and the annotation is kept")
		}
	}

	var tplTriggers []string
	for _, k := range tplKeys {
		c.removeTemplate(k)
		if k != rlLastReloadedFrom {
			tplTriggers = append(tplTriggers, k)
		}
	}
	if len(tplTriggers) > 0 {
		b.find(ref, PeerReloader, tplTriggers[0], SeverityApproximate,
			"Reloader read %s from the pod template; Courier's opt-in is a label on the workload itself. They are listed in removeTemplateAnnotations: removing them changes the pod template and so rolls the pods once, leaving them does nothing once Reloader is gone",
			quoteList(tplTriggers))
	}

	if !optedIn {
		return
	}
	switch ref.Kind {
	case "CronJob":
		c.setAnnotation(rollout.AnnotationRunNow, "true")
		b.find(ref, PeerReloader, firstTrigger(metaKeys, tplKeys), SeverityApproximate,
			"Reloader starts a Job from this CronJob when an input changes and leaves the CronJob as it is; Courier rolls the CronJob's Job template (its next scheduled Job uses the new configuration) and, with %s: \"true\" set by this plan, also starts one Job per change, exactly once",
			rollout.AnnotationRunNow)
	case "DeploymentConfig":
		b.find(ref, PeerReloader, firstTrigger(metaKeys, tplKeys), SeverityApproximate,
			"Courier rolls an OpenShift DeploymentConfig only when the manager runs with --rollout-kind=apps.openshift.io/v1/DeploymentConfig and is granted get, list, watch and patch on deploymentconfigs (docs/rollout.md)")
	}
}

// reloaderPausePeriod converts deployment.reloader.stakater.com/pause-period.
func (b *builder) reloaderPausePeriod(c *Change, ref ObjectRef, value string, optedIn bool) {
	c.remove(rlPausePeriod)
	if ref.Kind != "Deployment" {
		b.find(ref, PeerReloader, rlPausePeriod, SeverityApproximate,
			"Reloader applies the pause period to Deployments only and ignored it on this %s; it is removed without an equivalent (%s would start limiting this workload's rollouts)",
			ref.Kind, rollout.AnnotationMinInterval)
		return
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		b.find(ref, PeerReloader, rlPausePeriod, SeverityApproximate,
			"%q is not a positive duration, so Reloader failed to reload this Deployment at all; nothing is set for it", value)
		return
	}
	if !optedIn {
		return
	}
	c.setAnnotation(rollout.AnnotationMinInterval, value)
	b.find(ref, PeerReloader, rlPausePeriod, SeverityApproximate,
		"Reloader pauses the Deployment (spec.paused) for %s after each reload, so a change rolls out when the pause ends and changes during it roll with it; Courier's %s: %q rolls a change at once when the last rollout is at least %s old, and otherwise once when that interval has passed, without pausing the Deployment",
		value, rollout.AnnotationMinInterval, value, value)
}

// reloaderInput converts Reloader's annotations on a ConfigMap or Secret: match and
// ignore are carried by the workloads that consume it (Courier never reads
// annotations on inputs, so one team cannot make another team's workloads roll),
// and are removed here.
func (b *builder) reloaderInput(o *unstructured.Unstructured) {
	ref := RefOf(o)
	for _, k := range reloaderKeys(o.GetAnnotations()) {
		switch k {
		case rlMatch, rlIgnore:
			b.change(ref, PeerReloader).remove(k)
		default:
			b.find(ref, PeerReloader, k, SeverityUnsupported,
				"Reloader reads only %s and %s on a ConfigMap or Secret; nothing was converted and the annotation is kept", rlMatch, rlIgnore)
		}
	}
}

// reloadList is a parsed reload annotation: entries are regular expressions that
// must match a whole name (Reloader compiles "^entry$").
type reloadList struct {
	literal  []string         // entries that are plain names
	patterns []*regexp.Regexp // the other entries
	names    []string         // the input's objects the patterns match now
	leftOut  bool             // a pattern could not be expanded
}

func (l reloadList) matches(name string) bool {
	return slices.Contains(l.literal, name) || slices.ContainsFunc(l.patterns, func(re *regexp.Regexp) bool { return re.MatchString(name) })
}

// candidates are the names the list makes the workload follow, as far as the
// input tells.
func (l reloadList) candidates() []string {
	return sortedUnique(append(slices.Clone(l.literal), l.names...))
}

// reloadList parses the reload annotation (key, for findings) of a workload: a plain
// name is kept as is; a pattern is expanded to the objects of kind in the
// workload's namespace that the input holds and it matches, with a finding that a
// later one will not roll the workload.
func (b *builder) reloadList(ref ObjectRef, key, value, kind string) reloadList {
	var l reloadList
	for _, entry := range splitList(value) {
		re, err := regexp.Compile("^" + entry + "$")
		if err != nil {
			b.find(ref, PeerReloader, key, SeverityApproximate,
				"%q is not a valid regular expression, so Reloader skipped it; it is left out", entry)
			continue
		}
		if name, ok := literalName(entry); ok {
			l.literal = append(l.literal, name)
			// An unescaped '.' also matches any other character: say so when the
			// input holds such a name.
			var others []string
			for _, n := range slices.Sorted(maps.Keys(b.inputs[inputKey{ref.Namespace, kind}])) {
				if n != name && re.MatchString(n) {
					others = append(others, n)
				}
			}
			if len(others) > 0 {
				l.names = append(l.names, others...)
				b.find(ref, PeerReloader, key, SeverityApproximate,
					"%q is a regular expression for Reloader, where '.' matches any character, so it also matches %s; those are followed too, but one created later is not",
					entry, quoteList(others))
			}
			continue
		}
		l.patterns = append(l.patterns, re)
		if !b.knowsInputs(ref.Namespace, kind) {
			l.leftOut = true
			b.find(ref, PeerReloader, key, SeverityUnsupported,
				"%q is a pattern Reloader matches against the names of every %s of namespace %s; Courier follows names only, and the input holds no %ss of %s to expand it to, so it is left out: list the names in %s",
				entry, kind, ref.Namespace, kind, ref.Namespace, rollout.AnnotationExtraRefs)
			continue
		}
		var matched []string
		for _, n := range slices.Sorted(maps.Keys(b.inputs[inputKey{ref.Namespace, kind}])) {
			if re.MatchString(n) {
				matched = append(matched, n)
			}
		}
		l.names = append(l.names, matched...)
		b.find(ref, PeerReloader, key, SeverityApproximate,
			"%q is a pattern Reloader matches against the names of every %s of namespace %s; Courier follows names only, so it was expanded to the %d the input holds that match it now (%s): one created later does not roll the workload",
			entry, kind, ref.Namespace, len(matched), quoteList(matched))
	}
	return l
}

// plainName is a reload entry that is a name rather than a pattern: name
// characters and dots only.
var plainName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)

// literalName returns the name a reload entry stands for when the entry is a plain
// name ("app-config", or "app\.config"). An unescaped '.' is read as a dot too:
// that is what the author of "app.config" meant, and the other names it matches
// differ from it by one character.
func literalName(entry string) (string, bool) {
	name := strings.ReplaceAll(entry, `\.`, ".")
	return name, plainName.MatchString(name)
}

// mergeRefList renders refs, together with the entries an existing Courier
// annotation value already lists, in the form the annotation takes.
func mergeRefList(existing string, refs []workloadrefs.Ref) string {
	old, _ := workloadrefs.ParseList(existing)
	return workloadrefs.FormatList(append(old, refs...))
}

// hasAny reports whether ann holds one of keys.
func hasAny(ann map[string]string, keys ...string) bool {
	return slices.ContainsFunc(keys, func(k string) bool { _, ok := ann[k]; return ok })
}

// parseBool reads a boolean as Reloader does (strconv.ParseBool; anything else is
// false).
func parseBool(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

// firstTrigger names the annotation a workload-wide finding is filed under.
func firstTrigger(metaKeys, tplKeys []string) string {
	for _, k := range []string{rlAuto, rlSecretAuto, rlConfigMapAuto, rlSearch, rlConfigMapReload, rlSecretReload} {
		if slices.Contains(metaKeys, k) {
			return k
		}
	}
	if len(metaKeys) > 0 {
		return metaKeys[0]
	}
	if len(tplKeys) > 0 {
		return tplKeys[0]
	}
	return fmt.Sprintf("%s/*", rlDomain)
}
