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
        ["signin.locked"] = ("Trop d'essais. Réessayez dans quelques minutes.", "Too many attempts. Try again in a few minutes."),
        ["signup.link"] = ("Pas encore de compte ? Créez-en un avec un pseudonyme.", "No account yet? Create one with a pseudonym."),
        ["signup.title"] = ("Créer un compte pseudonyme", "Create a pseudonymous account"),
        ["signup.intro"] = ("Choisissez un pseudonyme qui ne révèle pas votre identité, et un mot de passe d'au moins 12 caractères, difficile à deviner : une phrase de plusieurs mots, par exemple.",
            "Choose a pseudonym that does not reveal who you are, and a password of at least 12 characters that is hard to guess: a phrase of several words, for example."),
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
        ["consent.nothing_else"] = ("Rien d'autre : ni votre identité civile, ni le motif de vos consultations.",
            "Nothing else: neither your civil identity nor the reason for your consultations."),
        ["consent.withdraw"] = ("Vous pourrez retirer cette autorisation à tout moment, en un clic, depuis « Mes autorisations ».",
            "You can withdraw this permission at any time, in one click, from \"My authorisations\"."),
        ["consent.allow"] = ("Autoriser", "Allow"),
        ["consent.deny"] = ("Refuser", "Deny"),
        ["scope.openid"] = ("Un identifiant pseudonyme propre à {0}, qui ne permet pas de vous reconnaître auprès d'autres services.",
            "A pseudonymous identifier specific to {0}, which cannot be used to recognise you on other services."),
        ["scope.offline_access"] = ("Le maintien de votre connexion : {0} pourra agir pour vous sans vous redemander de vous connecter, jusqu'à ce que vous retiriez cette autorisation.",
            "Staying signed in: {0} may act for you without asking you to sign in again, until you withdraw this permission."),
        ["authorizations.title"] = ("Mes autorisations", "My authorisations"),
        ["authorizations.intro"] = ("Les services qui reçoivent votre identifiant pseudonyme. Retirer une autorisation coupe leur accès tout de suite.",
            "The services that receive your pseudonymous identifier. Withdrawing an authorisation cuts their access at once."),
        ["authorizations.none"] = ("Aucun service n'a d'autorisation.", "No service holds an authorisation."),
        ["authorizations.since"] = ("depuis le {0}", "since {0}"),
        ["authorizations.withdraw"] = ("Retirer l'autorisation", "Withdraw the authorisation"),
        ["authorizations.withdrawn"] = ("Autorisation retirée : le service n'a plus accès.", "Authorisation withdrawn: the service no longer has access."),
        ["authorizations.signout"] = ("Se déconnecter", "Sign out"),
        ["signout.title"] = ("Déconnexion", "Sign out"),
        ["signout.confirm"] = ("Voulez-vous vous déconnecter ?", "Do you want to sign out?"),
        ["signout.submit"] = ("Se déconnecter", "Sign out"),
        ["signout.done"] = ("Vous êtes déconnecté.", "You are signed out."),
        ["error.title"] = ("La demande ne peut pas aboutir", "The request cannot be completed"),
        ["error.client"] = ("Le service qui vous a envoyé ici n'est pas reconnu, ou son adresse de retour ne correspond pas. Vous n'avez pas été redirigé, par sécurité.",
            "The service that sent you here is not recognised, or its return address does not match. You were not redirected, for your safety."),
        ["error.expired"] = ("Cette page a expiré. Retournez sur le service de départ et recommencez.",
            "This page has expired. Go back to the service you came from and start again."),
        ["error.form"] = ("Le formulaire a expiré ou n'est pas valide. Rechargez la page.", "The form has expired or is not valid. Reload the page."),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static string Get(string key, string language, params object[] arguments)
    {
        var (fr, en) = Texts[key];
        var text = language == UiLanguage.English ? en : fr;
        return arguments.Length == 0 ? text : string.Format(System.Globalization.CultureInfo.InvariantCulture, text, arguments);
    }

    public static bool Has(string key) => Texts.ContainsKey(key);
}
