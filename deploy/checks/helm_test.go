package checks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

const chartDir = "../helm/agentidp"

// rendered is the chart's output, each document decoded into its Kubernetes type.
type rendered struct {
	deployment      *appsv1.Deployment
	job             *batchv1.Job
	serviceAccount  *corev1.ServiceAccount
	service         *corev1.Service
	pdb             *policyv1.PodDisruptionBudget
	hpa             *autoscalingv2.HorizontalPodAutoscaler
	networkPolicy   *networkingv1.NetworkPolicy
	ingress         *networkingv1.Ingress
	kinds           []string
	documentsByName map[string]string
}

// renderChart renders the chart with Helm's engine as `helm install` would (strict: a
// missing value is an error), with values over the chart's defaults.
func renderChart(t *testing.T, values map[string]any) (*rendered, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	if err := ch.Validate(); err != nil {
		t.Fatalf("chart: %v", err)
	}
	vals, err := util.ToRenderValues(ch, values, common.ReleaseOptions{Name: "agentidp", Namespace: "idp", IsInstall: true, Revision: 1}, nil)
	if err != nil {
		return nil, err
	}
	files, err := engine.Engine{Strict: true}.Render(ch, vals)
	if err != nil {
		return nil, err
	}
	r := &rendered{documentsByName: map[string]string{}}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for _, doc := range releaseutil.SplitManifests(files[name]) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			if err := r.decode(name, doc); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	return r, nil
}

// decode decodes one document strictly (an unknown or misspelt field is an error) into the
// Kubernetes type its kind names.
func (r *rendered) decode(file, doc string) error {
	var head metav1.TypeMeta
	if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
		return err
	}
	var target any
	switch head.APIVersion + " " + head.Kind {
	case "apps/v1 Deployment":
		r.deployment = &appsv1.Deployment{}
		target = r.deployment
	case "batch/v1 Job":
		r.job = &batchv1.Job{}
		target = r.job
	case "v1 ServiceAccount":
		r.serviceAccount = &corev1.ServiceAccount{}
		target = r.serviceAccount
	case "v1 Service":
		r.service = &corev1.Service{}
		target = r.service
	case "policy/v1 PodDisruptionBudget":
		r.pdb = &policyv1.PodDisruptionBudget{}
		target = r.pdb
	case "autoscaling/v2 HorizontalPodAutoscaler":
		r.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
		target = r.hpa
	case "networking.k8s.io/v1 NetworkPolicy":
		r.networkPolicy = &networkingv1.NetworkPolicy{}
		target = r.networkPolicy
	case "networking.k8s.io/v1 Ingress":
		r.ingress = &networkingv1.Ingress{}
		target = r.ingress
	default:
		return fmt.Errorf("unexpected kind %s %s", head.APIVersion, head.Kind)
	}
	r.kinds = append(r.kinds, head.Kind)
	r.documentsByName[head.Kind] = doc
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return fmt.Errorf("%s: %v", head.Kind, err)
	}
	return nil
}

var chartValues = map[string]any{"existingSecret": "agentidp-secrets"}

func TestHelmChartRendersEveryObject(t *testing.T) {
	r, err := renderChart(t, chartValues)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Deployment", "HorizontalPodAutoscaler", "Ingress", "Job", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount"}
	got := slices.Sorted(slices.Values(r.kinds))
	if !slices.Equal(got, want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
}

func TestHelmChartWantsTheSecretByReference(t *testing.T) {
	_, err := renderChart(t, nil)
	if err == nil || !strings.Contains(err.Error(), "existingSecret") {
		t.Fatalf("rendered without existingSecret (err %v)", err)
	}
	r, err := renderChart(t, chartValues)
	if err != nil {
		t.Fatal(err)
	}
	for _, pod := range []corev1.PodSpec{r.deployment.Spec.Template.Spec, r.job.Spec.Template.Spec} {
		c := pod.Containers[0]
		if len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef == nil || c.EnvFrom[0].SecretRef.Name != "agentidp-secrets" {
			t.Errorf("%s: envFrom %+v, want the existing Secret", c.Name, c.EnvFrom)
		}
		for _, e := range c.Env {
			if strings.Contains(e.Name, "KEY") || strings.Contains(e.Name, "PEPPER") || strings.Contains(e.Name, "URL") && e.Name != "AGENTIDP_ISSUER" {
				t.Errorf("%s: %s set inline; secrets come from the Secret", c.Name, e.Name)
			}
		}
	}
	if strings.Contains(strings.Join(slices.Collect(maps.Values(r.documentsByName)), "\n"), "kind: Secret") {
		t.Error("the chart renders a Secret")
	}
}

// TestHelmChartPodsAreRestricted checks the restricted Pod Security Standard on the server's
// and the migration Job's pods.
func TestHelmChartPodsAreRestricted(t *testing.T) {
	r, err := renderChart(t, chartValues)
	if err != nil {
		t.Fatal(err)
	}
	for name, pod := range map[string]corev1.PodSpec{"deployment": r.deployment.Spec.Template.Spec, "job": r.job.Spec.Template.Spec} {
		psc := pod.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			t.Errorf("%s: pod not runAsNonRoot with a non-zero user: %+v", name, psc)
		}
		if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod seccompProfile is not RuntimeDefault", name)
		}
		if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			t.Errorf("%s: the service account token is mounted", name)
		}
		if pod.HostNetwork || pod.HostPID || pod.HostIPC {
			t.Errorf("%s: host namespaces", name)
		}
		for _, v := range pod.Volumes {
			if v.HostPath != nil {
				t.Errorf("%s: hostPath volume %s", name, v.Name)
			}
		}
		for _, c := range pod.Containers {
			sc := c.SecurityContext
			if sc == nil {
				t.Errorf("%s/%s: no securityContext", name, c.Name)
				continue
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s/%s: allowPrivilegeEscalation not false", name, c.Name)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Errorf("%s/%s: root filesystem writable", name, c.Name)
			}
			if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
				t.Errorf("%s/%s: capabilities %+v, want drop ALL and add none", name, c.Name, sc.Capabilities)
			}
			if sc.Privileged != nil && *sc.Privileged {
				t.Errorf("%s/%s: privileged", name, c.Name)
			}
			if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("%s/%s: seccompProfile is not RuntimeDefault", name, c.Name)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s/%s: wants a CPU request and a memory limit", name, c.Name)
			}
		}
	}
	if sa := r.serviceAccount; sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Error("ServiceAccount: automountServiceAccountToken not false")
	}
	if got := r.deployment.Spec.Template.Spec.ServiceAccountName; got != r.serviceAccount.Name {
		t.Errorf("Deployment runs as %q, not the chart's ServiceAccount %q", got, r.serviceAccount.Name)
	}
}

// TestHelmChartProbesAndMigrations: the probes hit the server's own health routes, and the
// migration Job is a pre-install/pre-upgrade hook running `agentidp migrate up` while the
// server does not migrate itself.
func TestHelmChartProbesAndMigrations(t *testing.T) {
	r, err := renderChart(t, chartValues)
	if err != nil {
		t.Fatal(err)
	}
	c := r.deployment.Spec.Template.Spec.Containers[0]
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no %s probe", name)
			continue
		}
		want := "/healthz"
		if name == "readiness" {
			want = "/readyz"
		}
		if p.HTTPGet.Path != want || p.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe on %s:%s, want %s:http", name, p.HTTPGet.Path, p.HTTPGet.Port.String(), want)
		}
	}
	if !slices.Equal(c.Args, []string{"serve"}) {
		t.Errorf("server args %v", c.Args)
	}
	if envValue(c.Env, "AGENTIDP_AUTO_MIGRATE") != "false" {
		t.Error("the server migrates itself although the Job does")
	}
	j := r.job
	if hooks := j.Annotations["helm.sh/hook"]; hooks != "pre-install,pre-upgrade" {
		t.Errorf("Job hook %q", hooks)
	}
	if got := j.Spec.Template.Spec.Containers[0].Args; !slices.Equal(got, []string{"migrate", "up"}) {
		t.Errorf("Job args %v, want migrate up", got)
	}
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("Job restartPolicy %s", j.Spec.Template.Spec.RestartPolicy)
	}

	r, err = renderChart(t, map[string]any{"existingSecret": "s", "migrations": map[string]any{"job": false}})
	if err != nil {
		t.Fatal(err)
	}
	if r.job != nil || envValue(r.deployment.Spec.Template.Spec.Containers[0].Env, "AGENTIDP_AUTO_MIGRATE") != "true" {
		t.Error("without the Job the server must migrate itself")
	}
}

func envValue(env []corev1.EnvVar, name string) string {
	for _, e := range env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// TestHelmChartAvailability: at least two replicas, spread over zones and nodes, a
// disruption budget below the replica count, and an autoscaler on the Deployment.
func TestHelmChartAvailability(t *testing.T) {
	r, err := renderChart(t, chartValues)
	if err != nil {
		t.Fatal(err)
	}
	if r.hpa.Spec.MinReplicas == nil || *r.hpa.Spec.MinReplicas < 2 || r.hpa.Spec.ScaleTargetRef.Name != r.deployment.Name {
		t.Errorf("HPA %+v", r.hpa.Spec)
	}
	if r.deployment.Spec.Replicas != nil {
		t.Error("the Deployment fixes replicas while the HPA owns them")
	}
	if r.pdb.Spec.MinAvailable == nil || r.pdb.Spec.MinAvailable.IntValue() >= int(*r.hpa.Spec.MinReplicas) {
		t.Errorf("PDB minAvailable %v blocks every drain at %d replicas", r.pdb.Spec.MinAvailable, *r.hpa.Spec.MinReplicas)
	}
	keys := map[string]bool{}
	for _, c := range r.deployment.Spec.Template.Spec.TopologySpreadConstraints {
		keys[c.TopologyKey] = true
		if c.LabelSelector == nil || c.LabelSelector.MatchLabels["app.kubernetes.io/instance"] != "agentidp" {
			t.Errorf("spread constraint on %s selects %v", c.TopologyKey, c.LabelSelector)
		}
	}
	if !keys["topology.kubernetes.io/zone"] || !keys["kubernetes.io/hostname"] {
		t.Errorf("spread over %v, want zones and nodes", keys)
	}
	for _, sel := range []map[string]string{r.pdb.Spec.Selector.MatchLabels, r.networkPolicy.Spec.PodSelector.MatchLabels, r.service.Spec.Selector} {
		for k, v := range sel {
			if r.deployment.Spec.Template.Labels[k] != v {
				t.Errorf("selector %v does not select the Deployment's pods", sel)
			}
		}
	}

	r, err = renderChart(t, map[string]any{"existingSecret": "s", "replicaCount": 1, "autoscaling": map[string]any{"enabled": false}})
	if err != nil {
		t.Fatal(err)
	}
	if r.hpa != nil || r.deployment.Spec.Replicas == nil || *r.deployment.Spec.Replicas < 2 {
		t.Errorf("without the HPA, replicas %v, want at least 2", r.deployment.Spec.Replicas)
	}
}

func TestHelmChartNetworkAndIngress(t *testing.T) {
	r, err := renderChart(t, chartValues)
	if err != nil {
		t.Fatal(err)
	}
	np := r.networkPolicy.Spec
	if !slices.Contains(np.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.PolicyTypes, networkingv1.PolicyTypeEgress) {
		t.Errorf("policy types %v", np.PolicyTypes)
	}
	if len(np.Ingress) != 1 || len(np.Ingress[0].From) == 0 {
		t.Errorf("ingress open to every pod: %+v", np.Ingress)
	}
	var egress []string
	for _, rule := range np.Egress {
		if len(rule.To) > 0 {
			t.Errorf("unexpected egress destinations %+v", rule.To)
		}
		for _, p := range rule.Ports {
			egress = append(egress, p.Port.String())
		}
	}
	if !slices.Contains(egress, "53") || !slices.Contains(egress, "5432") || !slices.Contains(egress, "6379") {
		t.Errorf("egress ports %v, want DNS, PostgreSQL and Redis", egress)
	}
	ing := r.ingress.Spec
	if len(ing.TLS) != 1 || ing.TLS[0].SecretName == "" || len(ing.Rules) != 1 || ing.Rules[0].Host != ing.TLS[0].Hosts[0] {
		t.Errorf("ingress without TLS for its host: %+v", ing)
	}
	if b := ing.Rules[0].HTTP.Paths[0].Backend.Service; b.Name != r.service.Name || b.Port.Name != "http" {
		t.Errorf("ingress backend %+v", b)
	}
}

// TestHelmStrictDecodeCatchesTypos makes sure the strict decoding can fail.
func TestHelmStrictDecodeCatchesTypos(t *testing.T) {
	r := &rendered{documentsByName: map[string]string{}}
	err := r.decode("x.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n")
	if err == nil || !strings.Contains(err.Error(), "replica") {
		t.Fatalf("a misspelt field decoded (err %v)", err)
	}
}
