using Compliance.Audit;
using Compliance.Consent;
using Compliance.Data;
using Compliance.Jobs;
using Compliance.Jobs.Notices;
using Compliance.Keys;
using Compliance.Oidc;
using Compliance.Policies;
using Compliance.Server.Health;
using Compliance.Server.Hosting;
using Compliance.Server.Policies;
using Compliance.Vault;

// The content root is the program's folder, so settings and policies are found wherever it is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

// Configuration, logging, limits, errors, security headers, OpenAPI.
builder.AddComplianceHosting();
builder.AddComplianceTelemetry();
if (WorkerOnlyServer.IsConfigured(builder.Configuration))
{
    // A worker-only node runs jobs and binds no port.
    builder.Services.AddSingleton<Microsoft.AspNetCore.Hosting.Server.IServer, WorkerOnlyServer>();
}

// Modules. Policies come first: a broken policy file stops the start before any database is touched.
builder.Services.AddCompliancePolicies(builder.Configuration);
builder.Services.AddComplianceData(builder.Configuration);
builder.Services.AddComplianceJobs(builder.Configuration);
builder.Services.AddComplianceNotices();
builder.Services.AddComplianceAudit();
builder.Services.AddComplianceVault();
builder.Services.AddComplianceKeys(builder.Configuration);
builder.Services.AddComplianceOidc(builder.Configuration);
builder.Services.AddComplianceConsent(builder.Configuration);
builder.Services.AddPolicyActivationRecord();

var app = builder.Build();

// The pipeline is built inside the run, so that a setting that a module reads while mapping its routes is refused in
// one line like any other, not as an unhandled exception.
return await app.RunComplianceAsync(pipeline =>
{
    pipeline.UseComplianceHosting();
    pipeline.UseComplianceOidc();
    pipeline.MapComplianceHealth();
    pipeline.MapComplianceMetrics();
    pipeline.MapComplianceOidc();
    pipeline.MapComplianceConsent();
    pipeline.MapComplianceJobsDashboard(Compliance.Oidc.Staff.StaffPolicies.Admin);
    pipeline.MapOpenApi();
});

/// <summary>The entry point, visible to the integration tests' <c>WebApplicationFactory</c>.</summary>
public partial class Program;
