using System.Collections.Frozen;
using Compliance.Policies;

namespace Compliance.Oidc.Ui;

/// <summary>Every sentence the patient reads, in French and English. Plain words: no protocol jargon.</summary>
internal static class UiText
{
    private static readonly FrozenDictionary<string, (string Fr, string En)> Texts = new Dictionary<string, (string, string)>
    {
        ["service"] = ("Espace patient sécurisé", "Secure patient space"),
        ["signin.title"] = ("Connexion", "Sign in"),
        ["signin.intro"] = ("Connectez-vous avec votre pseudonyme. Aucune information d'identité n'est demandée.",
            "Sign in with your pseudonym. No identity information is asked for."),
        ["signin.for"] = ("pour continuer vers {0}", "to continue to {0}"),
        ["pseudonym"] = ("Pseudonyme", "Pseudonym"),
        ["password"] = ("Mot de passe", "Password"),
        ["password.confirm"] = ("Confirmez le mot de passe", "Confirm the password"),
        ["signin.submit"] = ("Se connecter", "Sign in"),
        ["signin.failed"] = ("Pseudonyme ou mot de passe incorrect.", "Incorrect pseudonym or password."),
        ["signin.locked"] = ("Trop d'essais pour ce pseudonyme : par sécurité, la connexion est bloquée pendant {0}. Réessayez après ce délai.",
            "Too many attempts for this pseudonym: for your safety, signing in is blocked for {0}. Try again after that."),
        ["second_factor.title"] = ("Code de vérification", "Verification code"),
        ["second_factor.intro"] = ("Votre mot de passe est correct. Saisissez le code à 6 chiffres affiché par votre application d'authentification.",
            "Your password is correct. Enter the 6-digit code your authenticator app shows."),
        ["second_factor.code"] = ("Code à 6 chiffres", "6-digit code"),
        ["second_factor.recovery"] = ("Ou un code de secours", "Or a recovery code"),
        ["second_factor.recovery_hint"] = ("Si vous n'avez plus votre application : un des dix codes de secours reçus à sa configuration. Chacun ne sert qu'une fois.",
            "If you no longer have your app: one of the ten recovery codes you got when you set it up. Each works once."),
        ["security.recovery_left"] = ("Codes de secours restants : {0}.", "Recovery codes left: {0}."),
        ["security.recovery_last_used"] = ("Dernier code de secours utilisé le {0} (UTC). Si ce n'était pas vous, changez votre mot de passe.",
            "Last recovery code used on {0} (UTC). If it was not you, change your password."),
        ["second_factor.submit"] = ("Vérifier", "Verify"),
        ["second_factor.wrong"] = ("Ce code n'est pas le bon. Vérifiez l'heure de votre téléphone, puis saisissez le code affiché maintenant.",
            "That code is not right. Check your phone's clock, then enter the code shown now."),
        ["second_factor.replayed"] = ("Ce code a déjà servi. Attendez que votre application en affiche un nouveau.",
            "That code has already been used. Wait for your app to show a new one."),
        ["second_factor.expired"] = ("Cette étape a expiré. Saisissez de nouveau votre pseudonyme et votre mot de passe.",
            "This step has expired. Enter your pseudonym and password again."),
        ["security.title"] = ("Sécurité du compte", "Account security"),
        ["security.link"] = ("Sécurité du compte : second facteur", "Account security: second factor"),
        ["security.totp_off"] = ("Aucune application d'authentification n'est configurée : votre compte n'est protégé que par son mot de passe.",
            "No authenticator app is set up: your account is protected by its password only."),
        ["security.totp_on"] = ("Une application d'authentification est configurée : chaque connexion demande aussi son code.",
            "An authenticator app is set up: every sign-in also asks for its code."),
        ["security.totp_begin"] = ("Configurer une application d'authentification", "Set up an authenticator app"),
        ["security.totp_key"] = ("Ajoutez ce compte dans votre application d'authentification (Aegis, FreeOTP, Google Authenticator…) avec cette clé, puis saisissez le premier code qu'elle affiche :",
            "Add this account to your authenticator app (Aegis, FreeOTP, Google Authenticator…) with this key, then enter the first code it shows:"),
        ["security.totp_uri"] = ("Ou ouvrez ce lien sur le téléphone qui porte l'application :", "Or open this link on the phone that holds the app:"),
        ["security.totp_confirm"] = ("Activer", "Turn on"),
        ["security.totp_enabled"] = ("C'est fait : votre application d'authentification est activée.", "Done: your authenticator app is turned on."),
        ["security.recovery_intro"] = ("Vos codes de secours, montrés une seule fois. Chacun remplace une fois un code de l'application si vous perdez votre téléphone. Gardez-les hors de ce téléphone (papier, gestionnaire de mots de passe).",
            "Your recovery codes, shown this once. Each one stands in once for an app code if you lose your phone. Keep them off that phone (paper, a password manager)."),
        ["security.totp_qr"] = ("QR code à scanner avec votre application d'authentification", "QR code to scan with your authenticator app"),
        ["security.setup_required"] = ("Le service qui vous a envoyé ici demande un second facteur : configurez une application d'authentification pour continuer.",
            "The service that sent you here asks for a second factor: set up an authenticator app to go on."),
        ["security.continue"] = ("Continuer", "Continue"),
        ["security.recovery_regenerate"] = ("Remplacer mes codes de secours", "Replace my recovery codes"),
        ["security.recovery_regenerate_hint"] = ("Les anciens codes cessent aussitôt de fonctionner. Votre application vous sera redemandée si votre dernière vérification date de plus de 5 minutes.",
            "The old codes stop working at once. Your app's code is asked again if your last check is more than 5 minutes old."),
        ["security.recovery_regenerated"] = ("Vos anciens codes de secours ne fonctionnent plus.", "Your old recovery codes no longer work."),
        ["security.totp_remove"] = ("Retirer l'application d'authentification", "Remove the authenticator app"),
        ["security.totp_remove_hint"] = ("Pour changer de téléphone : retirez l'application, puis configurez la nouvelle. Sans second facteur, les services qui l'exigent vous le redemanderont.",
            "To change phones: remove the app, then set up the new one. Without a second factor, the services that require one will ask for it again."),
        ["step_up.title"] = ("Vérification supplémentaire", "Extra check"),
        ["step_up.intro"] = ("Pour continuer, saisissez le code à 6 chiffres de votre application d'authentification. Vous restez connecté : seul ce code est demandé.",
            "To go on, enter the 6-digit code of your authenticator app. You stay signed in: only this code is asked for."),
        ["password_change.title"] = ("Changer de mot de passe", "Change password"),
        ["password_change.intro"] = ("Saisissez votre mot de passe actuel, puis le nouveau (au moins 12 caractères). Vos autres sessions seront fermées.",
            "Enter your current password, then the new one (at least 12 characters). Your other sessions will be signed out."),
        ["password_change.intro_fresh"] = ("Vous venez de confirmer votre second facteur : le mot de passe actuel n'est pas nécessaire. Vos autres sessions seront fermées.",
            "You have just confirmed your second factor: the current password is not needed. Your other sessions will be signed out."),
        ["password_change.invalid"] = ("Le nouveau mot de passe doit compter au moins 12 caractères.", "The new password must be at least 12 characters long."),
        ["password_change.current"] = ("Mot de passe actuel", "Current password"),
        ["password_change.new"] = ("Nouveau mot de passe", "New password"),
        ["password_change.submit"] = ("Changer le mot de passe", "Change the password"),
        ["password_change.wrong"] = ("Le mot de passe actuel n'est pas le bon.", "The current password is not right."),
        ["password_change.done"] = ("Votre mot de passe est changé. Sessions fermées ailleurs : {0}.", "Your password is changed. Sessions signed out elsewhere: {0}."),
        ["nav.security"] = ("Sécurité du compte", "Account security"),
        ["signup.link"] = ("Pas encore de compte ? Créez-en un avec un pseudonyme.", "No account yet? Create one with a pseudonym."),
        ["signup.title"] = ("Créer un compte pseudonyme", "Create a pseudonymous account"),
        ["signup.intro"] = ("Choisissez un pseudonyme qui ne révèle pas votre identité, et un mot de passe d'au moins 12 caractères, difficile à deviner : une phrase de plusieurs mots, par exemple.",
            "Choose a pseudonym that does not reveal who you are, and a password of at least 12 characters that is hard to guess: a phrase of several words, for example."),
        ["signup.rules"] = ("Pseudonyme : de 3 à 32 caractères, parmi les lettres sans accent, les chiffres, « - », « _ » et « . ». Mot de passe : au moins 12 caractères.",
            "Pseudonym: 3 to 32 characters, among unaccented letters, digits, '-', '_' and '.'. Password: at least 12 characters."),
        ["signup.recovery"] = ("Important : un mot de passe perdu ne peut pas encore être récupéré, car ce service ne connaît ni votre e-mail ni votre téléphone. Enregistrez-le dans un gestionnaire de mots de passe.",
            "Important: a lost password cannot be recovered yet, because this service knows neither your e-mail nor your phone. Save it in a password manager."),
        ["signup.controller"] = ("Responsable du traitement de vos données : {0}. Délégué à la protection des données :",
            "Controller of your data: {0}. Data protection officer:"),
        ["signup.submit"] = ("Créer le compte", "Create the account"),
        ["signup.taken"] = ("Ce pseudonyme n'est pas disponible.", "This pseudonym is not available."),
        ["signup.mismatch"] = ("Les deux mots de passe diffèrent.", "The two passwords differ."),
        ["signup.password_common"] = ("Ce mot de passe est trop courant : il est fait de mots, de suites (123, azerty) ou d'années que les attaquants essaient en premier. Choisissez plutôt une phrase de plusieurs mots à vous.",
            "This password is too common: it is made of words, sequences (123, qwerty) or years that attackers try first. Choose a phrase of several words of your own instead."),
        ["signup.password_pseudonym"] = ("Le mot de passe ne doit pas contenir le pseudonyme.", "The password must not contain the pseudonym."),
        ["signup.invalid"] = ("Pseudonyme : 3 à 32 lettres, chiffres, « - », « _ » ou « . ». Mot de passe : au moins 12 caractères.",
            "Pseudonym: 3 to 32 letters, digits, '-', '_' or '.'. Password: at least 12 characters."),
        ["consent.title"] = ("Autoriser {0} ?", "Allow {0}?"),
        ["consent.intro"] = ("{0} demande à recevoir :", "{0} asks to receive:"),
        ["consent.nothing_else"] = ("Ce service ne transmet rien d'autre à {0} : ni votre identité civile, ni le motif de vos consultations. Ce que vous confiez directement à {0} ne passe pas par ce service.",
            "This service sends nothing else to {0}: neither your civil identity nor the reason for your consultations. What you tell {0} directly does not go through this service."),
        ["consent.withdraw"] = ("Vous pourrez retirer cette autorisation à tout moment, en un clic, depuis « Mes autorisations » : {0} n'aura alors plus accès à votre compte par ce service.",
            "You can withdraw this permission at any time, in one click, from \"My authorisations\": {0} will then no longer have access to your account through this service."),
        ["consent.erasure"] = ("Retirer l'autorisation n'efface pas ce que {0} détient déjà. Pour en demander l'effacement, écrivez au délégué à la protection des données :",
            "Withdrawing does not erase what {0} already holds. To ask for its erasure, write to the data protection officer:"),
        ["consent.offline_choice"] = ("Facultatif : vous pouvez autoriser sans cocher cette case. Vous devrez alors vous reconnecter quand {0} vous le demandera.",
            "Optional: you can allow without ticking this box. You will then sign in again when {0} asks you to."),
        ["consent.not_you"] = ("Ce n'est pas vous ? Se déconnecter et recommencer", "Not you? Sign out and start again"),
        ["consent.allow"] = ("Autoriser", "Allow"),
        ["consent.deny"] = ("Refuser", "Deny"),
        ["scope.openid"] = ("Un identifiant pseudonyme propre à {0}, qui ne permet pas de vous reconnaître auprès d'autres services.",
            "A pseudonymous identifier specific to {0}, which cannot be used to recognise you on other services."),
        ["scope.offline_access"] = ("Rester connecté : {0} pourra continuer à recevoir votre identifiant pseudonyme sans vous redemander de vous connecter, pendant {1} au plus, ou jusqu'à ce que vous retiriez cette autorisation.",
            "Staying signed in: {0} may keep receiving your pseudonymous identifier without asking you to sign in again, for at most {1}, or until you withdraw this permission."),
        ["authorizations.title"] = ("Mes autorisations", "My authorisations"),
        ["authorizations.intro"] = ("Les services qui reçoivent votre identifiant pseudonyme. Retirer une autorisation coupe tout de suite leur accès par ce service ; cela n'efface pas ce qu'ils détiennent déjà.",
            "The services that receive your pseudonymous identifier. Withdrawing an authorisation cuts their access through this service at once; it does not erase what they already hold."),
        ["authorizations.erasure"] = ("Pour demander à un service d'effacer ce qu'il détient, écrivez au délégué à la protection des données :",
            "To ask a service to erase what it holds, write to the data protection officer:"),
        ["authorizations.none"] = ("Aucun service n'a d'autorisation.", "No service holds an authorisation."),
        ["authorizations.since"] = ("depuis le {0}", "since {0}"),
        ["authorizations.withdraw"] = ("Retirer l'autorisation", "Withdraw the authorisation"),
        ["authorizations.withdrawn"] = ("Autorisation retirée : le service n'a plus accès à votre compte par ce service. Ce qu'il détient déjà n'est pas effacé.",
            "Authorisation withdrawn: the service no longer has access to your account through this service. What it already holds is not erased."),
        ["authorizations.signout"] = ("Se déconnecter", "Sign out"),
        ["signout.title"] = ("Déconnexion", "Sign out"),
        ["signout.confirm"] = ("Voulez-vous vous déconnecter ?", "Do you want to sign out?"),
        ["signout.submit"] = ("Se déconnecter", "Sign out"),
        ["signout.done"] = ("Vous êtes déconnecté.", "You are signed out."),
        ["signout.signin_again"] = ("Se reconnecter", "Sign in again"),
        ["nav.label"] = ("Votre compte", "Your account"),
        ["nav.signed_in"] = ("Connecté en tant que", "Signed in as"),
        ["error.title"] = ("La demande ne peut pas aboutir", "The request cannot be completed"),
        ["error.client"] = ("Le service qui vous a envoyé ici n'est pas reconnu, ou son adresse de retour ne correspond pas. Vous n'avez pas été redirigé, par sécurité.",
            "The service that sent you here is not recognised, or its return address does not match. You were not redirected, for your safety."),
        ["error.expired"] = ("Cette page a expiré. Retournez sur le service de départ et recommencez.",
            "This page has expired. Go back to the service you came from and start again."),
        ["error.wait_title"] = ("Merci de patienter", "Please wait"),
        ["error.too_many"] = ("Trop de demandes en peu de temps depuis votre connexion. Par sécurité, patientez {0}, puis réessayez.",
            "Too many requests in a short time from your connection. For your safety, wait {0}, then try again."),
        ["error.form"] = ("Le formulaire a expiré ou n'est pas valide. Rechargez la page.", "The form has expired or is not valid. Reload the page."),
        ["status.not_found.title"] = ("Page introuvable", "Page not found"),
        ["status.not_found"] = ("Cette adresse ne mène à aucune page de ce service. Vérifiez-la, ou repartez de votre espace.",
            "This address leads to no page of this service. Check it, or start again from your space."),
        ["status.method.title"] = ("Action impossible ici", "Action not possible here"),
        ["status.method"] = ("Cette page ne s'utilise pas de cette façon. Repartez de votre espace et recommencez.",
            "This page cannot be used this way. Start again from your space and try once more."),
        ["status.other"] = ("Le service n'a pas pu traiter cette demande. Réessayez dans un moment, ou repartez de votre espace.",
            "The service could not handle this request. Try again in a moment, or start again from your space."),
        ["privacy.title"] = ("Notice d'information sur vos données", "Privacy notice"),
        ["privacy.link"] = ("Comment vos données sont traitées : la notice d'information complète", "How your data are processed: the full privacy notice"),
        ["privacy.intro"] = ("Qui traite vos données personnelles, pourquoi, sur quelle base légale, qui les reçoit, combien de temps elles sont gardées, et comment exercer vos droits (RGPD, article 13).",
            "Who processes your personal data, why, on which legal basis, who receives them, how long they are kept, and how to exercise your rights (GDPR Art. 13)."),
        ["privacy.none"] = ("Aucune notice d'information n'est configurée sur ce service. Adressez-vous à la plateforme qui vous a conduit ici.",
            "No privacy notice is configured on this service. Ask the platform that sent you here."),
        ["privacy.version"] = ("Version de cette notice (empreinte des règles en vigueur) :", "Version of this notice (fingerprint of the rules in force):"),
        ["privacy.controller"] = ("Responsable du traitement", "Controller"),
        ["privacy.address"] = ("Adresse :", "Address:"),
        ["privacy.contact"] = ("Contact :", "Contact:"),
        ["privacy.representative"] = ("Représentant :", "Representative:"),
        ["privacy.dpo"] = ("Délégué à la protection des données :", "Data protection officer:"),
        ["privacy.processing"] = ("Ce que nous faisons de vos données", "What we do with your data"),
        ["privacy.purposes"] = ("Finalités", "Purposes"),
        ["privacy.legal_basis"] = ("Base légale : {0} (RGPD {1}).", "Legal basis: {0} (GDPR {1})."),
        ["privacy.and"] = (" et ", " and "),
        ["privacy.colon"] = (" : ", ": "),
        ["privacy.categories"] = ("Données concernées", "Data concerned"),
        ["privacy.recipients"] = ("Destinataires", "Recipients"),
        ["privacy.transfers"] = ("Transferts hors de l'Espace économique européen", "Transfers outside the European Economic Area"),
        ["privacy.transfers.none"] = ("Aucune de ces données n'est transférée hors de l'Espace économique européen.",
            "None of these data are transferred outside the European Economic Area."),
        ["privacy.transfer"] = ("{0}, vers le pays {1} : {2}", "{0}, to country {1}: {2}"),
        ["privacy.retention"] = ("Durées de conservation", "How long the data are kept"),
        ["privacy.rights"] = ("Vos droits", "Your rights"),
        ["privacy.rights.intro"] = ("Vous disposez des droits suivants sur vos données (RGPD, articles 15 à 21) :",
            "You have the following rights over your data (GDPR Art. 15 to 21):"),
        ["privacy.right.access"] = ("Accès : obtenir une copie de vos données et savoir comment elles sont traitées (article 15).",
            "Access: get a copy of your data and learn how they are processed (Art. 15)."),
        ["privacy.right.rectification"] = ("Rectification : faire corriger des données inexactes ou incomplètes (article 16).",
            "Rectification: have inaccurate or incomplete data corrected (Art. 16)."),
        ["privacy.right.erasure"] = ("Effacement : faire effacer vos données, sauf quand la loi impose de les garder (article 17).",
            "Erasure: have your data erased, except where the law requires keeping them (Art. 17)."),
        ["privacy.right.restriction"] = ("Limitation : faire geler l'usage de vos données le temps d'une vérification ou d'un litige (article 18).",
            "Restriction: have the use of your data frozen during a check or a dispute (Art. 18)."),
        ["privacy.right.portability"] = ("Portabilité : recevoir les données que vous avez fournies dans un format structuré et lisible par machine, ou les faire transmettre à un autre service (article 20).",
            "Portability: receive the data you provided in a structured, machine-readable format, or have them sent to another service (Art. 20)."),
        ["privacy.right.objection"] = ("Opposition : vous opposer à un traitement fondé sur l'intérêt légitime ou une mission d'intérêt public, pour des raisons tenant à votre situation (article 21).",
            "Objection: object to processing based on legitimate interests or a task in the public interest, on grounds relating to your situation (Art. 21)."),
        ["privacy.withdraw"] = ("Quand un traitement repose sur votre consentement, vous pouvez le retirer à tout moment, aussi simplement que vous l'avez donné. Le retrait ne remet pas en cause ce qui a été fait avant lui (RGPD, article 7(3)). Vos autorisations se retirent en un clic depuis :",
            "When processing rests on your consent, you can withdraw it at any time, as easily as you gave it. Withdrawing does not affect what was done before (GDPR Art. 7(3)). Your authorisations are withdrawn in one click from:"),
        ["privacy.exercise"] = ("Pour exercer ces droits, écrivez au délégué à la protection des données. Une réponse vous est apportée dans un délai d'un mois, prolongeable de deux mois pour une demande complexe : vous en seriez alors informé dans le premier mois.",
            "To exercise these rights, write to the data protection officer. You get an answer within one month, which may be extended by two months for a complex request: you would then be told within the first month."),
        ["privacy.complaint"] = ("Si vous estimez que vos droits ne sont pas respectés, vous pouvez adresser une réclamation à la CNIL (Commission nationale de l'informatique et des libertés) :",
            "If you believe your rights are not respected, you can lodge a complaint with the CNIL, the French data protection authority:"),
        ["privacy.complaint.link"] = ("Adresser une plainte à la CNIL", "Lodge a complaint with the CNIL"),
        ["privacy.requirement"] = ("Un pseudonyme et un mot de passe suffisent pour créer un compte : sans eux, le service ne peut pas être fourni. Votre identité civile n'est jamais demandée pour créer le compte.",
            "A pseudonym and a password are enough to create an account: without them, the service cannot be provided. Your civil identity is never asked for to create the account."),
        ["privacy.automated"] = ("Aucune décision fondée exclusivement sur un traitement automatisé, profilage compris, n'est prise à votre sujet (RGPD, article 22).",
            "No decision based solely on automated processing, including profiling, is made about you (GDPR Art. 22)."),
        ["legal_basis.consent"] = ("votre consentement", "your consent"),
        ["legal_basis.contract"] = ("l'exécution du contrat qui vous lie au service", "the performance of your contract with the service"),
        ["legal_basis.legal-obligation"] = ("une obligation légale", "a legal obligation"),
        ["legal_basis.vital-interest"] = ("la sauvegarde de vos intérêts vitaux", "the protection of your vital interests"),
        ["legal_basis.public-task"] = ("une mission d'intérêt public", "a task carried out in the public interest"),
        ["legal_basis.legitimate-interest"] = ("l'intérêt légitime du responsable du traitement", "the legitimate interests of the controller"),
        ["legal_basis.legal-claims"] = ("la constatation, l'exercice ou la défense de droits en justice", "the establishment, exercise or defence of legal claims"),
        ["legal_basis.provision-of-care"] = ("la prise en charge sanitaire par des professionnels soumis au secret", "the provision of health care by professionals bound by secrecy"),
        ["legal_basis.public-health"] = ("un intérêt public dans le domaine de la santé publique", "the public interest in the area of public health"),
        ["legal_basis.scientific-research"] = ("la recherche scientifique dans l'intérêt public", "scientific research in the public interest"),
        ["transfer.adequacy"] = ("décision d'adéquation (RGPD, article 45)", "adequacy decision (GDPR Art. 45)"),
        ["transfer.standard-contractual-clauses"] = ("clauses contractuelles types (RGPD, article 46(2)(c))", "standard contractual clauses (GDPR Art. 46(2)(c))"),
        ["transfer.binding-corporate-rules"] = ("règles d'entreprise contraignantes (RGPD, article 47)", "binding corporate rules (GDPR Art. 47)"),
        ["transfer.derogation"] = ("dérogation pour une situation particulière (RGPD, article 49)", "derogation for a specific situation (GDPR Art. 49)"),
        ["retention.rule"] = ("{0} : {1} après {2}", "{0}: {1} after {2}"),
        ["retention.rule.zero"] = ("{0} : rien n'est gardé après {1}", "{0}: nothing is kept after {1}"),
        ["retention.not_before"] = (", et au moins {0} après {1}", ", and at least {0} after {1}"),
        ["retention.not_before.age"] = (", et au moins jusqu'à l'âge de {0} ans", ", and at least until the age of {0}"),
        ["retention.after_death"] = (" ; en cas de décès, {0} après le décès", "; in case of death, {0} after death"),
        ["retention.trigger.collection"] = ("la collecte", "collection"),
        ["retention.trigger.last-activity"] = ("votre dernière activité sur le compte", "your last activity on the account"),
        ["retention.trigger.account-closure"] = ("la clôture du compte", "the closure of the account"),
        ["retention.trigger.event"] = ("l'événement enregistré", "the recorded event"),
        ["retention.trigger.consent-end"] = ("la fin du consentement (retrait, refus, révocation ou expiration)", "the end of the consent (withdrawal, refusal, revocation or expiry)"),
        ["retention.trigger.request-closure"] = ("la clôture de la demande", "the closure of the request"),
        ["retention.trigger.last-consultation"] = ("la dernière consultation", "the last consultation"),
        ["retention.trigger.study-end"] = ("la fin de l'étude (dernière publication de ses résultats)", "the end of the study (last publication of its results)"),
        ["retention.trigger.birth"] = ("la naissance", "birth"),
        ["retention.trigger.death"] = ("le décès", "death"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static string Get(string key, string language, params object[] arguments)
    {
        var (fr, en) = Texts[key];
        var text = language == UiLanguage.English ? en : fr;
        return arguments.Length == 0 ? text : string.Format(System.Globalization.CultureInfo.InvariantCulture, text, arguments);
    }

    /// <summary>A duration in words, rounded up to the unit the patient reads: "30 jours", "15 minutes", "45 seconds".</summary>
    public static string Duration(TimeSpan duration, string language)
    {
        var (count, unit) = duration.TotalSeconds switch
        {
            <= 90 => ((int)Math.Max(1, Math.Ceiling(duration.TotalSeconds)), "second"),
            < 7200 => ((int)Math.Ceiling(duration.TotalMinutes), "minute"),
            < 172_800 => ((int)Math.Ceiling(duration.TotalHours), "hour"),
            _ => ((int)Math.Ceiling(duration.TotalDays), "day"),
        };
        var word = (unit, language == UiLanguage.English) switch
        {
            ("second", false) => "seconde",
            ("minute", _) => "minute",
            ("hour", false) => "heure",
            ("hour", true) => "hour",
            ("day", false) => "jour",
            ("day", true) => "day",
            _ => "second",
        };
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{count} {word}{(count > 1 ? "s" : "")}");
    }

    /// <summary>
    /// A retention period in words, in calendar units as the policy states it: "2 ans", "1 year and 6 months",
    /// "7 jours". Never converted to days, which would turn a legal "one month" into an approximation.
    /// </summary>
    public static string Period(IsoPeriod period, string language)
    {
        var english = language == UiLanguage.English;
        var parts = new List<string>(4);
        Add(period.Years, english ? "year" : "an", english ? "years" : "ans");
        Add(period.Months, english ? "month" : "mois", english ? "months" : "mois");
        Add(period.Weeks, english ? "week" : "semaine", english ? "weeks" : "semaines");
        Add(period.Days, english ? "day" : "jour", english ? "days" : "jours");
        if (parts.Count == 0)
        {
            return english ? "0 days" : "0 jour";
        }

        return parts.Count == 1 ? parts[0] : string.Join(", ", parts.Take(parts.Count - 1)) + Get("privacy.and", language) + parts[^1];

        void Add(int count, string one, string many)
        {
            if (count > 0)
            {
                parts.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{count} {(count == 1 ? one : many)}"));
            }
        }
    }

    public static bool Has(string key) => Texts.ContainsKey(key);
}
