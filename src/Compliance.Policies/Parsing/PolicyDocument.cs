using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Compliance.Policies.Parsing;

/// <summary>One policy file read from disk: its bytes, its YAML tree, and where its errors go.</summary>
internal sealed class PolicyDocument
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly List<PolicyError> errors;

    private PolicyDocument(string fileName, List<PolicyError> errors)
    {
        FileName = fileName;
        this.errors = errors;
    }

    public string FileName { get; }

    /// <summary>The exact bytes read, or null when the file could not be read.</summary>
    public byte[]? Bytes { get; private set; }

    /// <summary>The root node of the single YAML document, or null when the file could not be parsed.</summary>
    public YamlNode? Root { get; private set; }

    public static PolicyDocument Read(string directory, string fileName, List<PolicyError> errors)
    {
        var document = new PolicyDocument(fileName, errors);
        var path = Path.Combine(directory, fileName);
        if (!File.Exists(path))
        {
            document.FileError($"file not found in {directory}");
            return document;
        }

        document.Bytes = File.ReadAllBytes(path);
        string text;
        try
        {
            text = StrictUtf8.GetString(document.Bytes);
        }
        catch (DecoderFallbackException)
        {
            document.FileError("file is not valid UTF-8");
            return document;
        }

        var stream = new YamlStream();
        var scanner = new Scanner(new StringReader(text));
        try
        {
            stream.Load(new Parser(scanner));
        }
        catch (YamlException exception)
        {
            // Syntax errors become located policy errors; a raw YamlException never leaves the loader.
            // Tab errors are located by their end mark, or not at all (1:1); the scanner then knows better.
            var mark = exception.Message.Contains("tab", StringComparison.Ordinal) ? exception.End : exception.Start;
            document.Error(mark.Index == 0 ? scanner.CurrentPosition : mark, exception.Message);
            return document;
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet 16 throws this for some malformed flow collections; the scanner knows where it stopped.
            document.Error(scanner.CurrentPosition, "invalid YAML syntax just before this point (an unclosed '[' or '{'?)");
            return document;
        }

        if (stream.Documents.Count == 0)
        {
            document.FileError("file is empty");
        }
        else if (stream.Documents.Count > 1)
        {
            document.Error(stream.Documents[1].RootNode.Start, "only one YAML document is allowed per file (remove the '---' separator)");
        }
        else
        {
            document.Root = stream.Documents[0].RootNode;
        }

        return document;
    }

    public void Error(Mark mark, string message) =>
        errors.Add(new PolicyError(FileName, ToInt(mark.Line), ToInt(mark.Column), message));

    public void Error(YamlNode node, string message) => Error(node.Start, message);

    public void FileError(string message) => errors.Add(new PolicyError(FileName, 0, 0, message));

    public string Location(YamlNode node) => $"{FileName}:{node.Start.Line}";

    private static int ToInt(long value) => value > int.MaxValue ? int.MaxValue : (int)value;
}
