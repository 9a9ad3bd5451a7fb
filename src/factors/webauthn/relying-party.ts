/**
 * The relying party a ceremony is checked against (WebAuthn §5.1.3 RP ID,
 * §13.4.9 origins). Where its values come from, and why the request's own host
 * is trusted only on localhost: src/http/public-origin.ts.
 */
export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}
