// Validates rendered Kubernetes manifests (multi-document YAML on standard input) offline:
// every object against the official OpenAPI schemas (kubernetes-models; KEDA's CRDs through
// @kubernetes-models/keda), then Sync's own rules the schemas cannot express (probes on the health
// endpoints, non-root, resources, references between objects). Prints each KEDA trigger as
// "keda-queue <deployment> <queue>" and exits 1 with every problem when there is one.
// Run by scripts/k8s-validate.sh, which installs the packages (package.json beside this file).
import { parseAllDocuments } from "yaml";

const input = await new Promise((resolve, reject) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
  process.stdin.on("error", reject);
});

const problems = [];
const objects = [];
for (const document of parseAllDocuments(input)) {
  if (document.errors.length > 0) {
    problems.push(...document.errors.map((e) => `YAML: ${e.message}`));
    continue;
  }
  const object = document.toJS();
  if (object !== null) objects.push(object);
}

// apiVersion → the module folder of its models.
function modelModule({ apiVersion, kind }) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  if (/^[^/]*keda\.sh\//.test(apiVersion)) return `@kubernetes-models/keda/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

const name = (o) => `${o?.kind ?? "?"}/${o?.metadata?.name ?? "?"}`;

for (const object of objects) {
  const module = modelModule(object);
  if (module === null) {
    problems.push(`${name(object)}: no apiVersion or kind`);
    continue;
  }
  let Model;
  try {
    Model = (await import(module))[object.kind];
  } catch {
    Model = undefined;
  }
  if (typeof Model !== "function") {
    problems.push(`${name(object)}: ${object.apiVersion} ${object.kind} is no known Kubernetes or KEDA kind`);
    continue;
  }
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`${name(object)}: ${error.message}`);
  }
}

const byKind = (kind) => objects.filter((o) => o.kind === kind);
const names = (kind) => new Set(byKind(kind).map((o) => o.metadata?.name));
const quantityMi = (q) => {
  const m = /^([0-9.]+)(Ki|Mi|Gi)?$/.exec(String(q ?? ""));
  if (!m) return NaN;
  return Number(m[1]) * ({ Ki: 1 / 1024, Mi: 1, Gi: 1024 }[m[2]] ?? 1 / (1024 * 1024));
};

const configMaps = names("ConfigMap");
for (const deployment of byKind("Deployment")) {
  const where = name(deployment);
  const pod = deployment.spec?.template?.spec ?? {};
  if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pod securityContext.runAsNonRoot is not true`);
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  for (const volume of volumes.values()) {
    if (volume.configMap && !configMaps.has(volume.configMap.name)) problems.push(`${where}: volume ${volume.name} names the ConfigMap ${volume.configMap.name}, which is not rendered`);
  }
  for (const container of pod.containers ?? []) {
    const at = `${where} container ${container.name}`;
    const ports = new Set((container.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
    for (const [probe, path] of [["livenessProbe", "/health/live"], ["readinessProbe", "/health/ready"]]) {
      const get = container[probe]?.httpGet;
      if (!get) problems.push(`${at}: no ${probe} with httpGet`);
      else {
        if (get.path !== path) problems.push(`${at}: ${probe} probes ${get.path}, not ${path}`);
        if (!ports.has(get.port)) problems.push(`${at}: ${probe} port ${get.port} is not a port of the container`);
      }
    }
    const limit = quantityMi(container.resources?.limits?.memory);
    if (!(limit > 0 && limit <= 256)) problems.push(`${at}: resources.limits.memory ${container.resources?.limits?.memory} is not within the 250 MB target (at most 256Mi)`);
    if (!container.resources?.requests?.memory || !container.resources?.requests?.cpu) problems.push(`${at}: no cpu and memory requests`);
    const security = container.securityContext ?? {};
    if (security.allowPrivilegeEscalation !== false) problems.push(`${at}: securityContext.allowPrivilegeEscalation is not false`);
    if (!(security.capabilities?.drop ?? []).includes("ALL")) problems.push(`${at}: securityContext.capabilities.drop lacks ALL`);
    for (const source of container.envFrom ?? []) {
      if (source.configMapRef && !configMaps.has(source.configMapRef.name)) problems.push(`${at}: envFrom names the ConfigMap ${source.configMapRef.name}, which is not rendered`);
    }
    // A secret handed over as a file must be under one of the container's mounts.
    const mounts = (container.volumeMounts ?? []).map((m) => {
      if (!volumes.has(m.name)) problems.push(`${at}: mounts ${m.name}, which is no volume of the pod`);
      return m.mountPath.replace(/\/?$/, "/");
    });
    for (const variable of container.env ?? []) {
      if (variable.name.endsWith("_FILE") && !mounts.some((m) => String(variable.value).startsWith(m))) problems.push(`${at}: ${variable.name}=${variable.value} is under no volume mount`);
    }
  }
}

const deployments = names("Deployment");
const authentications = names("TriggerAuthentication");
for (const scaled of byKind("ScaledObject")) {
  const where = name(scaled);
  const target = scaled.spec?.scaleTargetRef?.name;
  if (!deployments.has(target)) problems.push(`${where}: scaleTargetRef ${target} is no rendered Deployment`);
  for (const trigger of scaled.spec?.triggers ?? []) {
    const auth = trigger.authenticationRef?.name;
    if (auth !== undefined && !authentications.has(auth)) problems.push(`${where}: authenticationRef ${auth} is no rendered TriggerAuthentication`);
    if (trigger.type === "rabbitmq") console.log(`keda-queue ${target} ${trigger.metadata?.queueName}`);
  }
}

if (objects.length === 0) problems.push("no objects rendered");
for (const problem of problems) console.error(`invalid: ${problem}`);
console.log(`${problems.length === 0 ? "valid" : "INVALID"}: ${objects.length} objects, ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
