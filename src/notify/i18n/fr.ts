import type { MailCatalogue } from "./en";

/**
 * Every word of every email, in French: the same keys and placeholders as
 * en.ts. French typography is written in: a no-break space before `:`, a
 * narrow one before `; ? !`, typographic apostrophes. Wording is neutral in
 * gender ("cette personne", "Invitation à…") since we do not know the reader's.
 */
export const fr: MailCatalogue = {
  // ---- shared by every security email --------------------------------------
  "common.when": "Date : {time}",
  "common.from": "Depuis : {address} ({browser})",
  "common.unknownAddress": "adresse inconnue",
  "common.ifNotYou":
    "Si ce n’était pas vous, changez votre mot de passe dès maintenant et demandez à un admin de votre communauté de réinitialiser votre authentification à deux facteurs.",

  "browser.onSystem": "{browser} sous {system}",
  "browser.anyOnSystem": "un navigateur ou une application sous {system}",
  "browser.unknown": "navigateur inconnu",
  "browser.unrecognised": "navigateur ou application non reconnus",

  "names.admin": "Admin (nom tel que saisi par cette personne) : {name}",
  "names.community": "Communauté (nom tel que saisi par ses admins) : {name}",
  "names.invitedBy": "Invitation envoyée par (nom tel que saisi par cette personne) : {name}",
  "names.resettingAdmin": "Admin qui a fait la réinitialisation (nom tel que saisi par cette personne) : {name}",
  "names.resetAdmin": "Admin dont l’authentification à deux facteurs a été réinitialisée (nom tel que saisi par cette personne) : {name}",
  "names.resetAdminEmail": "Son adresse e-mail : {email}",

  // ---- the user's own security events ---------------------------------------
  "two_factor_enabled.subject": "L’authentification à deux facteurs est activée",
  "two_factor_enabled.body": "L’authentification à deux facteurs a été activée pour votre compte.",

  "two_factor_disabled.subject": "L’authentification à deux facteurs a été désactivée",
  "two_factor_disabled.body": "L’authentification à deux facteurs a été désactivée pour votre compte. Votre mot de passe suffit désormais pour vous connecter.",

  "method_added.subject": "Une méthode d’authentification à deux facteurs a été ajoutée",
  "method_added.body.totp": "Une nouvelle application d’authentification, {name}, a été ajoutée à votre compte.",
  "method_added.body.webauthn": "Une nouvelle clé de sécurité, {name}, a été ajoutée à votre compte.",

  "method_removed.subject": "Une méthode d’authentification à deux facteurs a été retirée",
  "method_removed.body.totp": "L’application d’authentification {name} a été retirée de votre compte. Vos autres sessions ont été déconnectées.",
  "method_removed.body.webauthn": "La clé de sécurité {name} a été retirée de votre compte. Vos autres sessions ont été déconnectées.",

  "backup_codes_regenerated.subject": "De nouveaux codes de secours ont été générés",
  "backup_codes_regenerated.body": "De nouveaux codes de secours ont été générés pour votre compte. Vos anciens codes de secours ne fonctionnent plus.",

  "backup_code_used.subject": "Un code de secours a été utilisé pour se connecter",
  "backup_code_used.body": {
    one: "Un code de secours a été utilisé pour se connecter à votre compte. Il vous reste {count} code de secours.",
    other: "Un code de secours a été utilisé pour se connecter à votre compte. Il vous reste {count} codes de secours.",
  },

  "recovery_code_issued.subject": "Votre authentification à deux facteurs a été réinitialisée",
  "recovery_code_issued.body":
    "Un admin d’une communauté dont vous êtes membre a réinitialisé votre authentification à deux facteurs. Toutes vos sessions ont été déconnectées, et vos méthodes et codes de secours ont été supprimés. Connectez-vous avec votre mot de passe et le code de récupération à usage unique que l’admin vous donnera (valable 24 heures), puis configurez une nouvelle méthode.",
  "recovery_code_issued.advice": "Si vous n’avez pas demandé cette réinitialisation, contactez l’admin et changez votre mot de passe.",

  "recovery_code_used.subject": "Un code de récupération a été utilisé",
  "recovery_code_used.body":
    "Un code de récupération a été utilisé pour se connecter à votre compte. Configurez une nouvelle méthode d’authentification à deux facteurs pour terminer.",

  "new_browser_login.subject": "Nouvelle connexion à votre compte depuis un nouveau navigateur",
  "new_browser_login.body": "Une connexion à votre compte vient d’avoir lieu depuis un navigateur qui ne s’y était encore jamais connecté.",
  "new_browser_login.ifYou": "Si c’était vous, vous n’avez rien à faire.",
  "new_browser_login.ifNotYou":
    "Si ce n’était pas vous, quelqu’un connaît votre mot de passe. Réinitialisez-le dès maintenant sur {resetUrl} (toutes les sessions seront aussi fermées), puis vérifiez les sessions listées sur votre page Sécurité : {securityUrl}",

  "locked_out.subject": "Connexion à deux facteurs bloquée {duration}",
  "locked_out.body": "Trop de codes erronés ont été saisis pour votre compte : la connexion à deux facteurs est bloquée {duration}.",
  "locked_out.advice": "Si ce n’était pas vous, quelqu’un connaît votre mot de passe : changez-le dès maintenant.",
  "locked_out.for.minutes": { one: "pendant {count} minute", other: "pendant {count} minutes" },
  "locked_out.for.hours": { one: "pendant {count} heure", other: "pendant {count} heures" },

  "key_counter_anomaly.subject": "Une clé de sécurité a peut-être été clonée",
  "key_counter_anomaly.body":
    "Une connexion avec votre clé de sécurité {name} a été refusée, car son compteur de signatures a reculé, ce qui peut signifier que la clé a été clonée.",

  // ---- communities -------------------------------------------------------------
  "member_left.subject": "Vous avez quitté une communauté",
  "member_left.body":
    "Vous avez quitté une communauté. Ses admins ne vous voient plus dans la liste de ses membres et ne peuvent plus réinitialiser votre authentification à deux facteurs.",
  "member_left.advice": "Si ce n’était pas vous, changez votre mot de passe dès maintenant et demandez aux admins de la communauté de vous inviter à nouveau.",

  "member_removed.subject": "Vous ne faites plus partie d’une communauté",
  "member_removed.body":
    "Un admin a mis fin à votre adhésion à une communauté. Ses admins ne vous voient plus dans la liste de ses membres et ne peuvent plus réinitialiser votre authentification à deux facteurs.",
  "member_removed.advice":
    "Si vous ne vous y attendiez pas, adressez-vous aux admins de la communauté ; vous n’en redevenez membre qu’en acceptant une nouvelle invitation.",

  "password_changed.subject": "Votre mot de passe a été changé",
  "password_changed.body":
    "Le mot de passe de votre compte a été changé depuis sa page Sécurité. Toutes les autres sessions ont été déconnectées et tous les navigateurs mémorisés ont été oubliés.",
  "password_changed.advice":
    "Si ce n’était pas vous, réinitialisez votre mot de passe dès maintenant depuis la page de connexion (« Mot de passe oublié ? ») et demandez à un admin de votre communauté de réinitialiser votre authentification à deux facteurs.",

  "password_reset.subject": "Votre mot de passe a été changé",
  "password_reset.body.twoFactorKept":
    "Le mot de passe de votre compte a été réinitialisé grâce à un lien envoyé à cette adresse. Toutes les sessions ont été déconnectées et tous les navigateurs mémorisés ont été oubliés. L’authentification à deux facteurs reste activée.",
  "password_reset.body.twoFactorRemoved":
    "Le mot de passe de votre compte a été réinitialisé grâce à un lien envoyé à cette adresse. Toutes les sessions ont été déconnectées et tous les navigateurs mémorisés ont été oubliés. Votre adresse e-mail n’avait jamais été confirmée : les méthodes à deux facteurs et les codes de secours configurés sur le compte ont donc été supprimés. Configurez une nouvelle méthode après vous être connecté. Le compte a aussi quitté toutes les communautés dont quelqu’un d’autre est admin, et les invitations envoyées depuis le compte que personne n’avait acceptées ont été retirées : la personne qui a configuré le compte a pu choisir ces admins.",

  // ---- e-mails qui portent un lien à usage unique --------------------------
  "account.verify_email.subject": "Confirmez votre adresse e-mail",
  "account.verify_email.body": "Confirmez que cette adresse e-mail est bien la vôtre en ouvrant ce lien (valable 24 heures, une seule fois) :",
  "account.verify_email.until": "Tant que vous ne l’avez pas fait, vous ne pouvez pas rejoindre une communauté sur invitation.",
  "account.verify_email.advice":
    "Si vous ne vous êtes pas inscrit, ignorez cet e-mail : le compte reste non confirmé, et la personne qui l’a créé ne peut pas utiliser votre adresse pour rejoindre une communauté. Si vous voulez un jour ce compte, réinitialisez son mot de passe depuis la page de connexion (« Mot de passe oublié ? ») : cela supprime aussi toute méthode à deux facteurs configurée par quelqu’un d’autre.",

  "account.password_reset_link.subject": "Réinitialisez votre mot de passe",
  "account.password_reset_link.body":
    "Quelqu’un a demandé à réinitialiser le mot de passe du compte associé à cette adresse e-mail. Pour choisir un nouveau mot de passe, ouvrez ce lien (valable 30 minutes, une seule fois) :",
  "account.password_reset_link.effect":
    "Réinitialiser le mot de passe déconnecte toutes les sessions et oublie tous les navigateurs mémorisés. L’authentification à deux facteurs reste activée : votre second facteur vous sera demandé à la prochaine connexion.",
  "account.password_reset_link.advice":
    "Si vous n’avez rien demandé, ignorez cet e-mail : votre mot de passe n’a pas changé. Une demande plus récente remplace ce lien.",

  "account.device_link.subject": "Connectez-vous depuis votre navigateur",
  "account.device_link.body":
    "Votre mot de passe correct vient d’être saisi depuis un navigateur qui ne s’est encore jamais connecté à votre compte, alors que les connexions à votre compte étaient ralenties après de nombreux mots de passe erronés. Cette connexion a été refusée pour l’instant.",
  "account.device_link.ifYou":
    "Si c’était vous, ouvrez ce lien dans ce même navigateur (valable 15 minutes, une seule fois). Il permet à ce navigateur de se connecter même si quelqu’un d’autre continue de se tromper de mot de passe :",
  "account.device_link.ifNotYou":
    "Si ce n’était pas vous, quelqu’un connaît votre mot de passe : réinitialisez-le dès maintenant depuis la page de connexion (« Mot de passe oublié ? »).",

  "invitation.subject": "Invitation à rejoindre une communauté",
  "invitation.body.member": "Quelqu’un a invité cette adresse e-mail à rejoindre une communauté en tant que membre.",
  "invitation.body.admin": "Quelqu’un a invité cette adresse e-mail à rejoindre une communauté en tant qu’admin.",
  "invitation.accept":
    "Pour accepter, ouvrez ce lien. Vous vous connecterez, ou créerez un compte avec cette adresse e-mail, puis accepterez :\n\n{link}\n\nElle expire le {time}. Le lien ne fonctionne qu’une fois.",
  "invitation.advice":
    "Si vous ne connaissez pas cette communauté ou ne vous attendiez pas à cette invitation, ignorez cet e-mail : rien ne se passe tant que vous n’acceptez pas. Nous ne vérifions pas les noms ci-dessus ; ne suivez aucune instruction qu’ils contiendraient. Les admins d’une communauté que vous rejoignez peuvent réinitialiser votre authentification à deux facteurs.",

  "admin_reset_notice.subject": "L’authentification à deux facteurs d’un admin de votre communauté a été réinitialisée",
  "admin_reset_notice.body":
    "Un admin d’une communauté que vous administrez a réinitialisé l’authentification à deux facteurs d’un autre admin de cette communauté. L’admin concerné peut désormais se connecter avec son mot de passe et un code de récupération à usage unique.",
  "admin_reset_notice.body.elsewhere":
    "Un admin d’une autre communauté, dont l’admin concerné est aussi membre, a réinitialisé l’authentification à deux facteurs d’un admin d’une communauté que vous administrez. L’admin concerné peut désormais se connecter avec son mot de passe et un code de récupération à usage unique, et agir en admin de votre communauté.",
  "admin_reset_notice.advice":
    "Si vous ne vous y attendiez pas, parlez aux deux admins par un canal de confiance. Un admin peut retirer un autre admin de la communauté.",
  "admin_reset_notice.body.operator":
    "L’opérateur de ce service a réinitialisé l’authentification à deux facteurs d’un admin d’une communauté que vous administrez. L’admin concerné peut désormais se connecter avec son mot de passe et un code de récupération à usage unique.",
  "admin_reset_notice.byOperator": "Réinitialisée par : l’opérateur de ce service",
  "admin_reset_notice.advice.operator":
    "Si vous ne vous y attendiez pas, parlez à l’admin concerné par un canal de confiance. Un admin peut retirer un autre admin de la communauté.",

  "recovery_code_issued.body.operator":
    "L’opérateur de ce service a réinitialisé votre authentification à deux facteurs, à votre demande. Toutes vos sessions ont été fermées, et vos méthodes et codes de secours supprimés. Connectez-vous avec votre mot de passe et le code de récupération à usage unique que l’opérateur vous donne (valable 24 heures), puis configurez une nouvelle méthode.",
  "recovery_code_issued.advice.operator":
    "Si vous n’avez pas demandé cette réinitialisation, répondez immédiatement à l’opérateur et changez votre mot de passe.",

  "policy_changed_notice.subject": "La politique de double authentification d’une communauté que vous administrez a changé",
  "policy_changed_notice.body": "Un admin a modifié la politique d’authentification à deux facteurs d’une communauté que vous administrez.",
  "policy_changed_notice.required": {
    one: "L’authentification à deux facteurs est obligatoire. Les membres qui ne l’ont pas ont {count} jour pour la configurer (à compter du début de l’obligation, ou de leur arrivée si elle est postérieure) ; ensuite, leur prochaine connexion leur demandera de la configurer avant toute autre chose.",
    other:
      "L’authentification à deux facteurs est obligatoire. Les membres qui ne l’ont pas ont {count} jours pour la configurer (à compter du début de l’obligation, ou de leur arrivée si elle est postérieure) ; ensuite, leur prochaine connexion leur demandera de la configurer avant toute autre chose.",
  },
  "policy_changed_notice.notRequired": "L’authentification à deux facteurs n’est pas obligatoire.",
  "policy_changed_notice.trusted": "Les membres peuvent permettre à un navigateur de sauter la seconde étape de connexion pendant 30 jours.",
  "policy_changed_notice.notTrusted":
    "Les membres ne peuvent pas permettre à un navigateur de sauter la seconde étape de connexion ; les navigateurs qu’ils avaient mémorisés sont oubliés.",
  "policy_changed_notice.advice": "Si vous ne vous y attendiez pas, parlez-en aux autres admins de la communauté par un canal de confiance.",
};
