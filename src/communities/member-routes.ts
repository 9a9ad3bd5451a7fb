import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { requireStage, sessionOf } from "../auth/session-middleware";
import { findUserById } from "../auth/store";
import type { AppEnv } from "../env";
import { guardFor } from "../guard/user-guard";
import { callerFor, callerOf } from "../http/caller";
import { AppError } from "../http/errors";
import { problems } from "../http/schemas";
import { validationHook } from "../http/validation";
import { z } from "../http/zod";
import { storedLang } from "../notify/language";
import { communityName, endMembership, membershipOf } from "./store";

/** Ending a membership: a member leaves, or an admin removes them (`DELETE /api/communities/{cid}/members/{uid}`). */
export const memberRoutes = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

memberRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{cid}/members/{uid}",
    tags: ["communities"],
    summary: "Leave a community (your own id), or remove a member (admins)",
    description:
      "Afterwards the community's admins neither list nor reset that user. The community's last admin cannot leave (409 last_admin). The user is emailed and a member_left or member_removed event is written to their log.",
    middleware: [requireStage("authenticated")],
    request: { params: z.object({ cid: z.string().max(64), uid: z.string().max(64) }) },
    responses: { 204: { description: "Left or removed" }, ...problems(401, 403, 404, 409) },
  }),
  async (c) => {
    const session = sessionOf(c);
    const { cid, uid } = c.req.valid("param");
    const db = c.env.DB;
    const own = await membershipOf(db, cid, session.user.id);
    if (!own) throw new AppError("not_found", "No such community");
    const leaving = uid === session.user.id;
    if (!leaving && own.role !== "admin") throw new AppError("forbidden", "Only the community's admins can remove members");
    if (!leaving && !(await membershipOf(db, cid, uid))) throw new AppError("not_found", "No such member");
    // The member's guard learns of the end before D1 deletes the row: a reset the route checked against this membership
    // is refused when it arrives, and the resets this user began here as an admin are withdrawn in their members' guards
    // (docs/security.md R13m).
    const leaver = guardFor(c.env, uid);
    const inFlight = await leaver.leaveCommunity(cid);
    await Promise.all(inFlight.map((r) => guardFor(c.env, r.target).withdrawReset(uid, r.beganAt)));
    const ended = await endMembership(db, cid, uid);
    if (ended === "gone") throw new AppError("not_found", "No such member");
    if (ended === "last_admin") {
      await leaver.stayInCommunity(cid);
      throw new AppError("last_admin", "The community's last admin cannot leave; make someone else an admin first");
    }
    const [member, name] = await Promise.all([findUserById(db, uid), communityName(db, cid)]);
    if (member) {
      const user = { id: member.id, email: member.email, name: member.name };
      // Leaving is the member's own request; a removal is an admin's, so the member reads it in their own language.
      const caller = leaving ? callerOf(c, user, session) : callerFor(c, user, storedLang(member.lang));
      await guardFor(c.env, uid).membershipEnded(caller, {
        communityId: cid,
        communityName: name ?? "",
        removedBy: leaving ? null : { id: session.user.id, name: session.user.name },
      });
    }
    return c.body(null, 204);
  },
);
