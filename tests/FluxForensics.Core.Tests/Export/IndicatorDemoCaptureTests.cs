using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json.Nodes;
using FluxForensics.Capture;
using FluxForensics.Export;
using FluxForensics.Fixtures.Capture;
using FluxForensics.Incident;
using FluxForensics.Model;

namespace FluxForensics.Tests.Export
{
    /// <summary>
    /// The writers on the incident sample itself: the capture the fixtures generate, analysed with secrets shown, joined by
    /// IncidentBuilder, exported.
    /// </summary>
    public sealed class IndicatorDemoCaptureTests : IClassFixture<IndicatorDemoCaptureTests.Demo>
    {
        private readonly Demo _demo;

        public IndicatorDemoCaptureTests(Demo demo) => _demo = demo;

        public sealed class Demo : IDisposable
        {
            public Demo()
            {
                Folder = ExportTestIncident.NewFolder();
                string capture = Path.Combine(Folder, "incident.pcapng");
                Assert.Equal(0, new IncidentCaptureCommand().Run(new[] { capture }));
                Findings = new CaptureAnalysis(new CaptureAnalysisOptions { IncludeSecret = true }, null).AnalyzeFiles(new[] { capture }, default).ToList();
                var builder = new IncidentBuilder();
                foreach (var f in Findings)
                {
                    builder.Add(f);
                }

                Incident = builder.Build();
                Options = new IndicatorExportOptions { Now = new DateTime(2026, 12, 7, 22, 34, 42, DateTimeKind.Utc) };
                Set = IndicatorSet.From(Incident, Options);
            }

            public string Folder { get; }
            public List<FluxFinding> Findings { get; }
            public FluxIncident Incident { get; }
            public IndicatorExportOptions Options { get; }
            public IndicatorSet Set { get; }

            public void Dispose() => Directory.Delete(Folder, true);
        }

        [SkippableFact]
        public void The_demo_bundle_validates_against_the_official_STIX_schemas()
        {
            Skip.If(StixSchemas.WhyMissing is not null, StixSchemas.WhyMissing);
            var sw = new StringWriter();
            StixBundleWriter.Write(_demo.Set, _demo.Options, sw);
            var bundle = JsonNode.Parse(sw.ToString())!;
            var schemas = StixSchemas.Shared;
            var objects = bundle["objects"]!.AsArray();
            Assert.True(objects.Count > 1000, $"{objects.Count} objects");
            foreach (var o in objects)
            {
                string type = o!["type"]!.GetValue<string>();
                var errors = schemas.Errors(schemas.ForType(type), o);
                Assert.True(errors.Count == 0, $"{o["id"]} is not valid {type}:\n" + string.Join("\n", errors));
            }

            var watch = System.Diagnostics.Stopwatch.StartNew();
            Assert.Empty(schemas.Errors(schemas.Bundle, bundle));
            Console.WriteLine($"bundle of {objects.Count} objects validated in {watch.Elapsed.TotalSeconds:0.0} s");
        }

        [Fact]
        public void No_captured_password_in_any_format_and_not_the_hosts_own_update()
        {
            var logins = _demo.Findings.OfType<ExposedCredential>().Select(c => (c.Account, c.Secret))
                .Concat(_demo.Findings.OfType<RelaySession>().Select(r => (r.Account, r.Secret)))
                .Where(l => l.Secret is not null && l.Secret != Redaction.Mask).ToList();
            Assert.NotEmpty(logins);
            var accounts = new HashSet<string>(logins.Select(l => l.Account ?? string.Empty), StringComparer.Ordinal);
            // infected:infected (the upstream basic-auth login) is a password that is also an account name: listed as an account.
            var secrets = logins.Select(l => l.Secret!).Where(s => !accounts.Contains(s)).Distinct().ToList();
            Assert.NotEmpty(secrets);

            var texts = new List<string>();
            foreach (IndicatorFormat format in Enum.GetValues(typeof(IndicatorFormat)))
            {
                foreach (var file in IndicatorExport.Write(_demo.Set, format, Path.Combine(_demo.Folder, "demo." + format), _demo.Options, true, NullReporter.Instance))
                {
                    texts.Add(File.ReadAllText(file));
                }
            }

            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(texts, t => t.Contains(secret));
            }

            var update = _demo.Findings.OfType<FluxDownload>().Single(d => d.Relay is null);
            Assert.Contains(_demo.Incident.MalwareFiles, f => f.Sha256 == update.Sha256);
            Assert.DoesNotContain(_demo.Set.Indicators, i => i.Value == update.Sha256 || i.Value == update.Server);
            Assert.Equal(_demo.Incident.FluxDomains.Length, _demo.Set.OfType(IndicatorType.Domain).Count());
            Assert.DoesNotContain(_demo.Set.Indicators, i => i.Value == "140.127.1.77" || i.Value == "static.cdn-campus.example");
        }
    }
}
