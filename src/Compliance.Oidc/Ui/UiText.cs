using System.Collections.Frozen;

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

    public static bool Has(string key) => Texts.ContainsKey(key);
}
