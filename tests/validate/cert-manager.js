// Checks every cert-manager.io/v1 document in the given YAML files against the cert-manager
// schemas of @kubernetes-models/cert-manager. Prints one line per invalid document and exits 1
// if there is any; documents of other API groups are skipped.
const fs = require("fs");
const yaml = require("js-yaml");
const models = require("@kubernetes-models/cert-manager/cert-manager.io/v1");

let valid = 0;
let invalid = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(fs.readFileSync(file, "utf8"))) {
    if (!doc || doc.apiVersion !== "cert-manager.io/v1") continue;
    const Model = models[doc.kind];
    const where = `${file}: ${doc.kind}/${doc.metadata && doc.metadata.name}`;
    if (!Model) {
      console.error(`${where}: cert-manager.io/v1 has no kind ${doc.kind}`);
      invalid++;
      continue;
    }
    try {
      new Model(doc).validate();
      valid++;
    } catch (e) {
      console.error(`${where}: ${e.message}`);
      invalid++;
    }
  }
}
console.log(`cert-manager documents: ${valid} valid, ${invalid} invalid`);
process.exit(invalid ? 1 : 0);
