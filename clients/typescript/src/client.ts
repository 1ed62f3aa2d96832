// A small typed fetch wrapper of the Evo 2 variant service. Types come from schema.d.ts, which is
// generated from the service's openapi.json (`make ts-types`); nothing here is written by hand twice.
//
//   const client = new Evo2Client({ baseUrl: "http://127.0.0.1:8000", apiKey: process.env.KEY });
//   const result = await client.variantDelta("chr17:43119628:T:G", { genome: "hg38" });
//   console.log(result.delta_score, result.label);

import type { components, paths } from "./schema.js";

export type Schemas = components["schemas"];
export type HealthResponse = Schemas["HealthResponse"];
export type InfoResponse = Schemas["InfoResponse"];
export type ScoreResponse = Schemas["ScoreResponse"];
export type VariantFields = Schemas["VariantFields"];
export type VariantResult = Schemas["VariantResult"];
export type VariantError = Schemas["VariantError"];
export type VariantDeltaResponse = Schemas["VariantDeltaResponse"];
export type LegacyAnalysisResponse = Schemas["LegacyAnalysisResponse"];
export type SaturationResponse = Schemas["SaturationResponse"];
export type ErrorBody = Schemas["ErrorBody"];
export type Resolution = Schemas["Resolution"];
export type ResolveResult = Schemas["ResolveResult"];
export type ResolveResponse = Schemas["ResolveResponse"];
export type AlleleResults = Schemas["AlleleResults"];
export type EmbedRequest = Schemas["EmbedRequest"];
export type EmbedResponse = Schemas["EmbedResponse"];

/** A variant in any notation the service reads (positions 1-based), or its fields. */
export type VariantInput = string | VariantFields;
/** Options of POST /variant-delta; those left out take the server's defaults (GET /info). */
export type VariantDeltaOptions = Partial<
  Pick<Schemas["VariantDeltaRequest"], "genome" | "window" | "delta_method" | "reverse_complement">
>;
export type ScoreOptions = Partial<Pick<Schemas["ScoreRequest"], "per_position" | "reverse_complement">>;
/** A region as "chr17:43119600-43119699" or chrom/start/end (1-based inclusive), and the delta options. */
export type SaturationRequest = Partial<Schemas["SaturationRequest"]>;
/** Query parameters of the original frontend's call; `variant_position` is 1-based. */
export type AnalyzeParams = paths["/analyze_single_variant"]["post"]["parameters"]["query"];

export const DEFAULT_BASE_URL = "http://127.0.0.1:8000";

export interface ClientOptions {
  /** Service URL; default http://127.0.0.1:8000. */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer <key>` when given. */
  apiKey?: string;
  /** Abort a request after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/** An error answer of the service (`{"error": {type, message, detail}}`) or no answer at all. */
export class ServiceError extends Error {
  readonly status: number | null;
  readonly type: string;
  readonly detail: Record<string, unknown>;
  readonly requestId: string | null;
  /** Seconds from Retry-After (429 and 503), when the server sent it. */
  readonly retryAfter: number | null;

  constructor(
    message: string,
    init: {
      status: number | null;
      type: string;
      detail?: Record<string, unknown>;
      requestId?: string | null;
      retryAfter?: number | null;
    },
  ) {
    super(message);
    this.name = "ServiceError";
    this.status = init.status;
    this.type = init.type;
    this.detail = init.detail ?? {};
    this.requestId = init.requestId ?? null;
    this.retryAfter = init.retryAfter ?? null;
  }
}

export function isVariantError(
  outcome: VariantResult | VariantError | AlleleResults | ResolveResult,
): outcome is VariantError {
  return "error" in outcome;
}

/** An rsID with several alternate alleles: one result per allele under its one input. */
export function isAlleleResults(outcome: VariantResult | VariantError | AlleleResults): outcome is AlleleResults {
  return "alleles" in outcome;
}

type Query = Record<string, string | number | boolean | null | undefined>;

export class Evo2Client {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  /** GET /health: liveness, no key needed. */
  health(): Promise<HealthResponse> {
    return this.request("GET", "/health");
  }

  /** GET /info: model, calibration, defaults and limits. */
  info(): Promise<InfoResponse> {
    return this.request("GET", "/info");
  }

  /** POST /score: log-likelihood of DNA sequences. */
  score(sequences: string[], options: ScoreOptions = {}): Promise<ScoreResponse> {
    return this.request("POST", "/score", { body: { sequences, ...options } });
  }

  /** POST /resolve: notations (rsIDs, HGVS, gene:c., genomic) → genomic variants, not scored. */
  resolve(variants: VariantInput | VariantInput[], options: { genome?: string } = {}): Promise<ResolveResponse> {
    const body = Array.isArray(variants) ? { variants, ...options } : { variant: variants, ...options };
    return this.request("POST", "/resolve", { body });
  }

  /** POST /variant-delta with one variant: its result (an rsID with several alleles: AlleleResults),
   * or a ServiceError when it cannot be scored. */
  async variantDelta(
    variant: VariantInput,
    options: VariantDeltaOptions = {},
  ): Promise<VariantResult | AlleleResults> {
    const response = await this.request<VariantDeltaResponse>("POST", "/variant-delta", {
      body: { variant, ...options },
    });
    const [outcome] = response.results;
    if (outcome === undefined || isVariantError(outcome)) {
      const error = outcome?.error ?? { type: "invalid_response", message: "no result", detail: {} };
      throw new ServiceError(error.message, { status: 400, type: error.type, detail: error.detail });
    }
    return outcome;
  }

  /** POST /variant-delta with a list (at most GET /info's limits.max_variants): results in input order. */
  variantDeltas(variants: VariantInput[], options: VariantDeltaOptions = {}): Promise<VariantDeltaResponse> {
    return this.request("POST", "/variant-delta", { body: { variants, ...options } });
  }

  /** POST /saturation: the delta of every SNV in a region, positions × alleles (A, C, G, T). */
  saturation(request: SaturationRequest): Promise<SaturationResponse> {
    return this.request("POST", "/saturation", { body: request });
  }

  /**
   * POST /embed: hidden states of named layers (GET /info's model.embeddings lists them) for DNA
   * sequences or one variant's "ref" and "alt" windows; the mean over positions unless per_position.
   */
  embed(request: Partial<EmbedRequest>): Promise<EmbedResponse> {
    return this.request("POST", "/embed", { body: request });
  }

  /** POST /embed answered as a binary .npz (arrays "<item>/<layer>" and a JSON "meta"): large answers. */
  async embedNpz(request: Partial<EmbedRequest>): Promise<ArrayBuffer> {
    const response = await this.send("POST", "/embed", { body: request, accept: "application/x-npz" });
    return response.arrayBuffer();
  }

  /** POST /analyze_single_variant?…: the original project's frontend call, answered with its six fields. */
  analyzeSingleVariant(params: AnalyzeParams): Promise<LegacyAnalysisResponse> {
    return this.request("POST", "/analyze_single_variant", { query: params });
  }

  private async request<T>(
    method: "GET" | "POST",
    path: string,
    init: { body?: unknown; query?: Query } = {},
  ): Promise<T> {
    const response = await this.send(method, path, init);
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ServiceError(`${method} ${path}: the answer is not JSON`, {
        status: response.status,
        type: "invalid_response",
        requestId: response.headers.get("x-request-id"),
      });
    }
  }

  /** Sends one request; a non-2xx answer becomes a ServiceError, a 2xx one is returned unread. */
  private async send(
    method: "GET" | "POST",
    path: string,
    init: { body?: unknown; query?: Query; accept?: string } = {},
  ): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(init.query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: init.accept ?? "application/json" };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        redirect: "follow", // Modal answers requests running past 150 s with a 303 to the result
        signal: this.timeoutMs === undefined ? undefined : AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      const error = new ServiceError(`cannot reach the service (${url.origin}): ${String(cause)}`, {
        status: null,
        type: "connection_error",
      });
      throw Object.assign(error, { cause });
    }
    if (!response.ok) throw errorFrom(response, await response.text(), response.headers.get("x-request-id"));
    return response;
  }
}

function errorFrom(response: Response, text: string, requestId: string | null): ServiceError {
  const retryAfter = Number.parseFloat(response.headers.get("retry-after") ?? "");
  const init = {
    status: response.status,
    requestId,
    retryAfter: Number.isFinite(retryAfter) ? retryAfter : null,
  };
  try {
    const { error } = JSON.parse(text) as { error: ErrorBody };
    if (typeof error?.type === "string" && typeof error.message === "string") {
      return new ServiceError(error.message, { ...init, type: error.type, detail: error.detail ?? {} });
    }
  } catch {
    // not the service's envelope (a proxy's error page): fall through
  }
  const snippet = text.trim().slice(0, 200);
  const message = `HTTP ${response.status} ${response.statusText}${snippet ? `: ${snippet}` : ""}`;
  return new ServiceError(message, { ...init, type: "http_error" });
}
