// Runs the compiled client (dist/) against a live service: EVO2_SERVICE_URL (required) and, when the
// service requires one, EVO2_SERVICE_API_KEY. Expects the bundled hg38 BRCA1 slice (any scorer).
import assert from "node:assert/strict";
import { test } from "node:test";

import { Evo2Client, ServiceError, isVariantError } from "../dist/client.js";

const baseUrl = process.env.EVO2_SERVICE_URL;
const apiKey = process.env.EVO2_SERVICE_API_KEY || undefined;
if (!baseUrl) throw new Error("set EVO2_SERVICE_URL to a running service (make serve) to run these tests");

const client = new Evo2Client({ baseUrl, apiKey, timeoutMs: 60_000 });
const VARIANT = "chr17:43119628:T:G"; // hg38; the reference base is T
const POS = 43119628;

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ServiceError, `expected a ServiceError, got ${error}`);
    return error;
  }
  assert.fail("expected the call to fail");
}

test("health and info", async () => {
  const health = await client.health();
  assert.ok(["ok", "degraded"].includes(health.status));
  const info = await client.info();
  assert.equal(info.defaults.window, 8192);
  assert.ok(info.limits.max_variants >= 1);
});

test("one variant: 1-based position, 0-based half-open window", async () => {
  const result = await client.variantDelta(VARIANT, { genome: "hg38" });
  assert.deepEqual([result.chrom, result.pos, result.ref, result.alt], ["chr17", POS, "T", "G"]);
  assert.deepEqual([result.window.start, result.window.end], [POS - 1 - 4096, POS - 1 + 4096]);
  assert.ok(Math.abs(result.delta_score - (result.alt_score - result.ref_score)) < 1e-12);
  const fields = await client.variantDelta({ chrom: "17", pos: POS, alt: "G" }, { window: 1024 });
  assert.equal(fields.ref, "T");
  assert.equal(fields.window_length, 1024);
});

test("a list keeps its order and reports bad variants in place", async () => {
  const inputs = [VARIANT, "chr17:43119628:A:G", "17:43119628 T>C"];
  const response = await client.variantDeltas(inputs);
  assert.deepEqual(response.results.map((r) => r.input), inputs);
  assert.deepEqual(response.results.map(isVariantError), [false, true, false]);
  assert.equal(response.results[1].error.type, "ref_mismatch");
});

test("score and the original frontend's call", async () => {
  const scores = await client.score(["ACGTACGTAA"], { per_position: true });
  assert.equal(scores.scores[0].log_probs.length, 9);
  const legacy = await client.analyzeSingleVariant({
    variant_position: POS,
    alternative: "G",
    genome: "hg38",
    chromosome: "chr17",
  });
  assert.deepEqual([legacy.position, legacy.reference, legacy.alternative], [POS, "T", "G"]);
  assert.equal(legacy.classification_confidence, null); // kmer-8 is uncalibrated: no 0 % confidence
});

test("saturation: positions × A, C, G, T", async () => {
  const matrix = await client.saturation({ region: "chr17:43119626-43119630", window: 1024 });
  assert.deepEqual(matrix.positions, [43119626, 43119627, 43119628, 43119629, 43119630]);
  assert.deepEqual(matrix.alleles, ["A", "C", "G", "T"]);
  assert.equal(matrix.ref[2], "T");
  assert.equal(matrix.deltas[2][3], null);
  const single = await client.variantDelta(`chr17:${POS}:T:G`, { window: 1024 });
  assert.ok(Math.abs(matrix.deltas[2][2] - single.delta_score) < 1e-12);
});

test("errors carry the server's type, message and request id", async () => {
  const mismatch = await rejection(client.variantDelta("chr17:43119628:A:G"));
  assert.equal(mismatch.status, 400);
  assert.equal(mismatch.type, "ref_mismatch");
  assert.match(mismatch.message, /the genome has T/);
  assert.ok(mismatch.requestId);
  const invalid = await rejection(client.variantDelta(VARIANT, { genome: "hg37" }));
  assert.deepEqual([invalid.status, invalid.type], [400, "unknown_genome"]);
  assert.equal((await client.variantDelta(VARIANT, { genome: "GRCh38" })).genome, "hg38");
  const down = await rejection(new Evo2Client({ baseUrl: "http://127.0.0.1:9" }).health());
  assert.deepEqual([down.status, down.type], [null, "connection_error"]);
});

test("a service that requires a key refuses requests without one", { skip: !apiKey && "no key given" }, async () => {
  const anonymous = new Evo2Client({ baseUrl });
  assert.equal((await anonymous.health()).status, "ok");
  const refused = await rejection(anonymous.info());
  assert.deepEqual([refused.status, refused.type], [401, "unauthorized"]);
});

test("embed: JSON or .npz, or unsupported_by_model for a model without layers", async () => {
  const info = await client.info();
  if (info.model.embeddings?.available) {
    const answer = await client.embed({ sequences: ["ACGTACGTAA"] });
    assert.equal(answer.items.length, 1);
    const npz = await client.embedNpz({ sequences: ["ACGTACGTAA"] });
    assert.ok(npz.byteLength > 0);
  } else {
    const error = await rejection(client.embed({ sequences: ["ACGTACGTAA"] }));
    assert.equal(error.status, 400);
    assert.equal(error.type, "unsupported_by_model");
    const binary = await rejection(client.embedNpz({ sequences: ["ACGTACGTAA"] }));
    assert.equal(binary.type, "unsupported_by_model");
  }
});
