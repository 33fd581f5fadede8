package reconcilertest

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/courier-operator/courier/pkg/reconciler"
)

func TestCountingAndRecorder(t *testing.T) {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	env := NewEnv(s, Options{})
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "n"}}
	if err := env.Client.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	_ = env.Client.Get(ctx, client.ObjectKeyFromObject(cm), cm)
	_ = env.Client.List(ctx, &corev1.ConfigMapList{})
	cm.Data = map[string]string{"k": "v"}
	_ = env.Client.Update(ctx, cm)
	_ = env.Client.Patch(ctx, cm, client.MergeFrom(cm.DeepCopy()))
	_ = env.Client.Delete(ctx, cm)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "n"}}
	_ = env.Client.Create(ctx, pod)
	_ = env.Client.Status().Update(ctx, pod)
	_ = env.Client.Status().Patch(ctx, pod, client.MergeFrom(pod.DeepCopy()))
	want := Calls{Get: 1, List: 1, Create: 2, Update: 1, Patch: 1, Delete: 1, StatusUpdate: 1, StatusPatch: 1}
	if got := env.Counter.Calls(); got != want {
		t.Fatalf("calls = %s, want %s", got, want)
	}
	if env.Counter.Calls().Writes() != 7 {
		t.Fatal("Writes wrong")
	}
	env.Recorder.Eventf(pod, nil, "Normal", "Reason", "Action", "note %d", 1)
	if d := DiffEvents(env.Recorder.Events(), []string{"Normal Reason note 1"}); d != "" {
		t.Fatal(d)
	}
	if env.Recorder.Events()[0].Regarding != "n/p" {
		t.Fatal("regarding not recorded")
	}
	if DiffEvents(env.Recorder.Events(), []string{"Warning"}) == "" || DiffEvents(nil, []string{"x"}) == "" {
		t.Fatal("DiffEvents accepts a mismatch")
	}
}

func TestDiffConditions(t *testing.T) {
	c := metav1.Condition{Type: "Ready", Status: "True", Reason: "Succeeded", Message: "m", ObservedGeneration: 1}
	if d := DiffConditions([]metav1.Condition{c}, []metav1.Condition{{Type: "Ready", Status: "True", Reason: "Succeeded", ObservedGeneration: 1}}); d != "" {
		t.Fatal(d)
	}
	if DiffConditions(nil, []metav1.Condition{c}) == "" {
		t.Fatal("missing condition accepted")
	}
	bad := c
	bad.Message = "other"
	if DiffConditions([]metav1.Condition{c}, []metav1.Condition{bad}) == "" {
		t.Fatal("message mismatch accepted")
	}
}

func TestOutcomeOf(t *testing.T) {
	if OutcomeOf(reconcile.Result{}, nil) != reconciler.OutcomeDone ||
		OutcomeOf(reconcile.Result{RequeueAfter: time.Second}, nil) != reconciler.OutcomeWaiting ||
		OutcomeOf(reconcile.Result{}, errors.New("x")) != reconciler.OutcomeTransient ||
		OutcomeOf(reconcile.Result{}, reconciler.Terminal("R", "m")) != reconciler.OutcomeTerminal {
		t.Fatal("OutcomeOf misclassifies")
	}
}
