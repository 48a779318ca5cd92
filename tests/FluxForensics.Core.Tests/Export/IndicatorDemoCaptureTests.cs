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
    }
}
