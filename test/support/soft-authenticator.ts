/**
 * A software authenticator for the tests, written from the WebAuthn Level 3
 * spec and independent of @simplewebauthn (which the server uses): an ES256
 * (P-256) key pair from WebCrypto, authenticator data built byte by byte
 * (§6.1), `none` attestation (§8.7) in a CBOR attestation object (§6.5.4),
 * and assertion signatures over authenticatorData || SHA-256(clientDataJSON)
 * (§6.3.3), DER-encoded as §6.5.6 requires for ECDSA.
 *
 * It plays the client (browser) part too: it writes clientDataJSON (§5.8.1)
 * with the origin it is told. Every field a test may want to falsify can be
 * overridden per call.
 */

const encoder = new TextEncoder();

export function b64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function fromB64url(s: string): Uint8Array {
  const base64 = s.replaceAll("-", "+").replaceAll("_", "/");
  const bin = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// ---- a tiny CBOR encoder (RFC 8949), just the types WebAuthn needs --------

export type CBOR = number | string | Uint8Array | CBOR[] | Map<number | string, CBOR>;

function head(major: number, n: number): Uint8Array {
  if (n < 24) return Uint8Array.of((major << 5) | n);
  if (n < 0x100) return Uint8Array.of((major << 5) | 24, n);
  if (n < 0x10000) return Uint8Array.of((major << 5) | 25, n >> 8, n & 0xff);
  return Uint8Array.of((major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

export function cbor(value: CBOR): Uint8Array {
  if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === "string") {
    const bytes = encoder.encode(value);
    return concat(head(3, bytes.length), bytes);
  }
  if (value instanceof Uint8Array) return concat(head(2, value.length), value);
  if (Array.isArray(value)) return concat(head(4, value.length), ...value.map(cbor));
  const parts: Uint8Array[] = [head(5, value.size)];
  for (const [k, v] of value) parts.push(cbor(k), cbor(v));
  return concat(...parts);
}

// ---- ECDSA signature: IEEE P1363 (r || s) to ASN.1 DER ---------------------

function derInteger(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  let v: Uint8Array = bytes.slice(i);
  if ((v[0] as number) & 0x80) v = concat(Uint8Array.of(0), v);
  return concat(Uint8Array.of(0x02, v.length), v);
}

export function p1363ToDER(sig: Uint8Array): Uint8Array {
  const r = derInteger(sig.slice(0, 32));
  const s = derInteger(sig.slice(32, 64));
  return concat(Uint8Array.of(0x30, r.length + s.length), r, s);
}

// ---- flags (§6.1 authenticator data) ---------------------------------------

export const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40, ED: 0x80 } as const;

function u32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

export interface CeremonyOverrides {
  /** clientDataJSON.origin (default: the authenticator's origin). */
  origin?: string;
  /** The RP ID whose SHA-256 goes into the authenticator data (default: the options' RP ID). */
  rpId?: string;
  /** clientDataJSON.challenge (default: the options' challenge). */
  challenge?: string;
  /** clientDataJSON.type. */
  type?: string;
  /** clientDataJSON.crossOrigin (default false): true is what a browser writes for a ceremony inside a cross-origin frame. */
  crossOrigin?: boolean;
  /** clientDataJSON.topOrigin: the framing page's origin, which newer browsers add to a cross-origin ceremony. */
  topOrigin?: string;
  /** Authenticator data flags, replacing the default. */
  flags?: number;
  /** Sign counter to report instead of the next one. */
  counter?: number;
  /** Register even if the options exclude this credential (a client that ignores excludeCredentials). */
  ignoreExclusion?: boolean;
  /** Extra bytes carried in the registered COSE key under an unassigned label, which no verifier reads. */
  publicKeyPadding?: number;
}

export interface CreationOptions {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  excludeCredentials?: { id: string; type: string }[];
}

export interface RequestOptions {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string; type: string }[];
}

export class ExcludedCredentialError extends Error {}

/** COSE algorithms this authenticator can use: ES256 (P-256), EdDSA (Ed25519), RS256 (RSA 2048, PKCS#1 v1.5). */
export type Algorithm = -7 | -8 | -257;

const KEY_PARAMS: Record<Algorithm, { generate: any; sign: any }> = {
  [-7]: { generate: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
  [-8]: { generate: { name: "Ed25519" }, sign: { name: "Ed25519" } },
  [-257]: {
    generate: { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: Uint8Array.of(1, 0, 1), hash: "SHA-256" },
    sign: { name: "RSASSA-PKCS1-v1_5" },
  },
};

export class SoftAuthenticator {
  /** All-zero AAGUID: what `none` attestation usually carries. */
  readonly aaguid = new Uint8Array(16);
  readonly credentialId: Uint8Array;
  counter: number;
  /** Added to the counter per assertion: 0 models a passkey that never counts. */
  readonly counterStep: number;
  userHandle: string | null = null;

  private constructor(
    private readonly keys: CryptoKeyPair,
    readonly alg: Algorithm,
    readonly origin: string,
    opts: { counter: number; counterStep: number; credentialId: Uint8Array },
  ) {
    this.credentialId = opts.credentialId;
    this.counter = opts.counter;
    this.counterStep = opts.counterStep;
  }

  static async create(
    opts: { origin?: string; counter?: number; counterStep?: number; credentialId?: Uint8Array; alg?: Algorithm } = {},
  ): Promise<SoftAuthenticator> {
    const alg = opts.alg ?? -7;
    const keys = (await crypto.subtle.generateKey(KEY_PARAMS[alg].generate, true, ["sign", "verify"])) as CryptoKeyPair;
    return new SoftAuthenticator(keys, alg, opts.origin ?? "http://localhost", {
      counter: opts.counter ?? 0,
      counterStep: opts.counterStep ?? 1,
      credentialId: opts.credentialId ?? crypto.getRandomValues(new Uint8Array(32)),
    });
  }

  /** A second authenticator holding the same credential id (a clone, or a forged registration). */
  async sameIdOnOtherKey(): Promise<SoftAuthenticator> {
    return SoftAuthenticator.create({ origin: this.origin, credentialId: this.credentialId, alg: this.alg });
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  /** The credential public key as a COSE_Key: RFC 9053 §7.1.1 (EC2), §7.2 (OKP), RFC 8230 §4 (RSA). */
  async coseKey(padding = 0): Promise<Uint8Array> {
    const key = await this.plainCoseKey();
    if (padding === 0) return key;
    // One more entry in the map (label 100, unassigned): the key still verifies, only its size grows.
    return concat(Uint8Array.of((key[0] as number) + 1), key.slice(1), cbor(100), cbor(new Uint8Array(padding)));
  }

  private async plainCoseKey(): Promise<Uint8Array> {
    if (this.alg === -8) {
      const x = new Uint8Array((await crypto.subtle.exportKey("raw", this.keys.publicKey)) as ArrayBuffer);
      return cbor(
        new Map<number, CBOR>([
          [1, 1],
          [3, -8],
          [-1, 6],
          [-2, x],
        ]),
      );
    }
    if (this.alg === -257) {
      const jwk = (await crypto.subtle.exportKey("jwk", this.keys.publicKey)) as JsonWebKey;
      return cbor(
        new Map<number, CBOR>([
          [1, 3],
          [3, -257],
          [-1, fromB64url(jwk.n as string)],
          [-2, fromB64url(jwk.e as string)],
        ]),
      );
    }
    const raw = new Uint8Array((await crypto.subtle.exportKey("raw", this.keys.publicKey)) as ArrayBuffer); // 0x04 || x || y
    return cbor(
      new Map<number, CBOR>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, raw.slice(1, 33)],
        [-3, raw.slice(33, 65)],
      ]),
    );
  }

  private clientData(type: string, challenge: string, o: CeremonyOverrides): Uint8Array {
    // Key order as browsers write it (§5.8.1.1); the server must not depend on it anyway.
    const data: Record<string, unknown> = {
      type: o.type ?? type,
      challenge: o.challenge ?? challenge,
      origin: o.origin ?? this.origin,
      crossOrigin: o.crossOrigin ?? false,
    };
    if (o.topOrigin !== undefined) data.topOrigin = o.topOrigin;
    return encoder.encode(JSON.stringify(data));
  }

  /** navigator.credentials.create() with `none` attestation. */
  async register(options: CreationOptions, o: CeremonyOverrides = {}) {
    if (!o.ignoreExclusion && options.excludeCredentials?.some((c) => c.id === this.id)) {
      // §6.3.2 step 3: an authenticator holding an excluded credential refuses (InvalidStateError).
      throw new ExcludedCredentialError("credential excluded");
    }
    this.userHandle = options.user.id;
    const rpId = o.rpId ?? options.rp.id ?? new URL(this.origin).hostname;
    const clientDataJSON = this.clientData("webauthn.create", options.challenge, o);
    const attested = concat(
      this.aaguid,
      Uint8Array.of(this.credentialId.length >> 8, this.credentialId.length & 0xff),
      this.credentialId,
      await this.coseKey(o.publicKeyPadding),
    );
    const authData = concat(
      await sha256(encoder.encode(rpId)),
      Uint8Array.of(o.flags ?? FLAG.UP | FLAG.UV | FLAG.AT),
      u32(o.counter ?? this.counter),
      attested,
    );
    const attestationObject = cbor(
      new Map<string, CBOR>([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ["usb"] },
      clientExtensionResults: {},
      authenticatorAttachment: "cross-platform",
    };
  }

  /** navigator.credentials.get(): signs authenticatorData || SHA-256(clientDataJSON) (§6.3.3 step 11). */
  async assert(options: RequestOptions, o: CeremonyOverrides = {}) {
    if (options.allowCredentials && options.allowCredentials.length > 0 && !options.allowCredentials.some((c) => c.id === this.id)) {
      throw new Error("this authenticator holds none of the allowed credentials");
    }
    const rpId = o.rpId ?? options.rpId ?? new URL(this.origin).hostname;
    if (o.counter === undefined) this.counter += this.counterStep;
    const counter = o.counter ?? this.counter;
    const clientDataJSON = this.clientData("webauthn.get", options.challenge, o);
    const authData = concat(await sha256(encoder.encode(rpId)), Uint8Array.of(o.flags ?? FLAG.UP | FLAG.UV), u32(counter));
    const signed = concat(authData, await sha256(clientDataJSON));
    const sig = new Uint8Array(await crypto.subtle.sign(KEY_PARAMS[this.alg].sign, this.keys.privateKey, signed));
    const response: Record<string, string> = {
      clientDataJSON: b64url(clientDataJSON),
      authenticatorData: b64url(authData),
      // §6.5.6: ECDSA signatures are DER-encoded; Ed25519 and RSA ones are the raw bytes.
      signature: b64url(this.alg === -7 ? p1363ToDER(sig) : sig),
    };
    if (this.userHandle) response.userHandle = this.userHandle;
    return { id: this.id, rawId: this.id, type: "public-key", response, clientExtensionResults: {}, authenticatorAttachment: "cross-platform" };
  }
}
