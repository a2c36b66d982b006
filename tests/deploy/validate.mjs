// Validates every document of the YAML files given against the Kubernetes API models
// (kubernetes-models; KEDA's from @kubernetes-models/keda): unknown fields, wrong types and
// missing required fields are errors. Prints one line per document, exits 1 if any failed.
//   node validate.mjs deploy/kubernetes/*.yaml
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";

const models = [ConfigMap, Secret, Service, Deployment, HorizontalPodAutoscaler, ScaledObject];
let failed = 0;
for (const file of process.argv.slice(2)) {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  docs.forEach((doc, i) => {
    const where = `${file}#${i + 1}`;
    if (doc.errors.length > 0) {
      console.log(`FAIL ${where}: YAML: ${doc.errors[0].message}`);
      failed++;
      return;
    }
    const obj = doc.toJS();
    const Model = models.find((m) => m.apiVersion === obj.apiVersion && m.kind === obj.kind);
    if (!Model) {
      console.log(`FAIL ${where}: no model for ${obj.apiVersion} ${obj.kind}`);
      failed++;
      return;
    }
    try {
      new Model(obj).validate();
      console.log(`ok   ${where}: ${obj.kind} ${obj.metadata?.name}`);
    } catch (e) {
      console.log(`FAIL ${where}: ${obj.kind} ${obj.metadata?.name}: ${e.message.split("\n")[0]}`);
      failed++;
    }
  });
}
process.exit(failed > 0 ? 1 : 0);
