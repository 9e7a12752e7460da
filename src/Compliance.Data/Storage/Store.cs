namespace Compliance.Data.Storage;

/// <summary>The two stores, kept apart on purpose: neither alone re-identifies anyone.</summary>
public enum Store
{
    /// <summary>Pseudonymous data: accounts, clients, grants, consent ledger, requests, audit trail.</summary>
    Compliance,

    /// <summary>Civil identity, encrypted per subject, and the trace of every access to it.</summary>
    Vault,
}
