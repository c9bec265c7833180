/**
 * The `tend` command line. Thin: it parses flags and lazily imports the command that does the
 * work, so `tend --help` starts instantly and never loads onnxruntime or the database.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { TEND_VERSION } from '../core/version.js';
import { endQuietlyOnBrokenPipe, oneLine, reportError, wantsJson } from './output.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('a port is an integer from 0 to 65535');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function percent(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100)
    throw new InvalidArgumentError('a percent is a number from 0 to 100');
  return n;
}

function finiteNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

/** Build the program (exported for tests); `json` makes usage errors `{"error","code"}` lines. */
export function buildProgram(options: { json?: boolean } = {}): Command {
  const program = new Command('tend')
    .configureOutput({
      // Commander's usage errors (unknown option, missing argument, …) as one line, like tend's own.
      outputError: (text, write) =>
        write(
          options.json === true
            ? `${JSON.stringify({ error: oneLine(text).replace(/^error: /, ''), code: 'TEND_INVALID_ARGUMENT' })}\n`
            : `${oneLine(text)}\n`,
        ),
    })
    .description(
      'Deploy, serve and maintain ONNX models: registry, KServe V2 server with dynamic batching, metrics.',
    )
    .version(TEND_VERSION)
    .showSuggestionAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('serve every model of the registry (and of each --repo) over the KServe V2 protocol')
    .option(
      '--repo <dir>',
      'a Triton-like repository <repo>/<model>/<version>/model.onnx, served in place (repeatable)',
      collect,
      [],
    )
    .option('--home <dir>', 'registry home (default: $TEND_HOME, else ./.tend)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (default 8000)', portNumber)
    .option('--grpc-port <port>', 'gRPC port (default 8001)', portNumber)
    .option('--no-grpc', 'serve HTTP only')
    .option(
      '--model-control <mode>',
      'explicit (default: load/unload allowed at run time), none (models fixed at start) or poll (repositories and registry watched)',
    )
    .option(
      '--poll-interval <duration>',
      'poll mode: how often to look for changes, e.g. 1s, 500ms (default 1s)',
    )
    .option('--config <file>', 'server config file (YAML)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--log-format <format>', 'json (default) or ecs (Elastic Common Schema field names)')
    .option(
      '--insecure-no-auth',
      'allow a non-loopback --host with no token configured (anyone who reaches it may deploy)',
    )
    .option(
      '--tokens-file <file>',
      'tokens, one name:scopes:token[:models=glob,…] per line (also $TEND_TOKENS_FILE)',
    )
    .option('--tls-cert <pem>', 'serve HTTPS and gRPC over TLS with this certificate (with --tls-key)')
    .option('--tls-key <pem>', 'the TLS private key')
    .option('--tls-ca <pem>', 'mutual TLS: require client certificates signed by this CA')
    .option(
      '--shutdown-timeout <duration>',
      'on SIGTERM/SIGINT, how long requests in flight may take to finish, e.g. 30s (default 30s)',
    )
    .action(async (opts) => (await import('./commands/serve.js')).serveCommand(opts));

  program
    .command('push')
    .description('register an ONNX file as a new version of a model')
    .argument('<file>', 'the .onnx file')
    .requiredOption('--name <name>', 'model name')
    .option('--alias <alias>', 'point this alias at the new version (repeatable)', collect, [])
    .option('--tag <k=v>', 'tag the version (repeatable)', collect, [])
    .option('--description <text>', 'model description')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (file, opts) => (await import('./commands/registry.js')).pushCommand(file, opts));

  const models = program.command('models').description('list and inspect registered models');
  models
    .command('list')
    .description('list models')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/registry.js')).modelsListCommand(opts));
  models
    .command('show')
    .description('show a model, or one version of it (NAME, NAME@ALIAS or NAME@VERSION)')
    .argument('<ref>', 'model reference')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, opts) => (await import('./commands/registry.js')).modelsShowCommand(ref, opts));
  models
    .command('versions')
    .description("list a model's versions")
    .argument('<name>', 'model name')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (name, opts) => (await import('./commands/registry.js')).modelsVersionsCommand(name, opts));

  models
    .command('archive')
    .description('keep a version but stop serving it; refused while an alias or route points at it')
    .argument('<ref>', 'NAME@VERSION')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, opts) => (await import('./commands/lifecycle.js')).modelsArchiveCommand(ref, opts));
  models
    .command('unarchive')
    .description('serve an archived version again')
    .argument('<ref>', 'NAME@VERSION')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, opts) => (await import('./commands/lifecycle.js')).modelsUnarchiveCommand(ref, opts));
  models
    .command('delete')
    .description(
      'delete a version (NAME@VERSION) or a whole model (NAME, with --yes); files go at the next `tend gc`',
    )
    .argument('<ref>', 'NAME@VERSION or NAME')
    .option('--yes', 'confirm deleting a whole model')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, opts) => (await import('./commands/lifecycle.js')).modelsDeleteCommand(ref, opts));

  program
    .command('optimize')
    .description(
      'make an optimized version (graph optimization, int8, fp16, pruning, or auto: try them all), validate it against its parent, register it when it passes',
    )
    .argument('<ref>', 'NAME, NAME@VERSION or NAME@ALIAS (default: the latest version)')
    .requiredOption('--method <method>', 'graph, int8-dynamic, int8-static, fp16, prune or auto')
    .option('--level <level>', 'graph: basic, extended or all (default all)')
    .option('--per-channel', 'int8-dynamic, int8-static: one scale per output channel')
    .option('--reduce-range', 'int8-dynamic: 7-bit weights (for CPUs without VNNI)')
    .option('--exclude <name-or-op...>', 'int8-dynamic: node names or op types to leave in float')
    .option(
      '--calibration <file>',
      'int8-static (and auto): inputs to calibrate on, CSV or JSONL like --eval',
    )
    .option('--calibrate <how>', 'int8-static: minmax, percentile (99.999, default) or entropy')
    .option(
      '--sparsity <fraction>',
      'prune: share of weights zeroed, or of units/channels removed (default 0.5)',
    )
    .option('--structured', 'prune: remove whole hidden units / Conv channels (smaller and faster)')
    .option(
      '--finetune-data <csv>',
      'prune --structured, models tend trained: train the pruned network a few epochs on this CSV (with --target)',
    )
    .option('--finetune-epochs <n>', 'passes over --finetune-data (default 10)')
    .option('--eval <file>', 'evaluation data: CSV (one column per feature) or JSONL (V2 request bodies)')
    .option('--target <column>', 'the label column of the --eval CSV (accuracy gate) and of --finetune-data')
    .option('--max-accuracy-drop <points>', 'labelled data: most accuracy the candidate may lose (default 1)')
    .option('--min-cosine <x>', 'unlabelled data: least mean cosine similarity of outputs (default 0.999)')
    .option(
      '--max-slowdown <fraction>',
      'most the candidate may be slower than its parent at its best batch size (default 0.05)',
    )
    .option('--force', 'register even outside the gate (quality or speed)')
    .option('--rounds <n>', 'timing rounds per batch size, medians over them (default 5)')
    .option('--run-ms <ms>', 'timing: ms per model, batch size and round (default 300)')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, opts) => (await import('./commands/optimize.js')).optimizeCommand(ref, opts));
  program
    .command('feedback')
    .description('attach ground truth from a CSV to logged predictions (by request id, and row)')
    .argument('<ref>', 'model (NAME)')
    .argument('<file>', 'CSV with an id column and a label column')
    .requiredOption('--id-column <name>', 'column holding the request id')
    .requiredOption(
      '--label-column <name>',
      'column holding the class index or class name (or the value with --value)',
    )
    .option('--row-column <name>', 'column holding the row of a multi-row request (default: row 0)')
    .option('--value', 'the label column holds regression values')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, file, opts) =>
      (await import('./commands/monitor.js')).feedbackCommand(ref, file, opts),
    );
  const log = program.command('log').description('the prediction log');
  log
    .command('export')
    .description('write logged predictions (with their ground truth) as CSV, JSON lines or NDJSON')
    .argument('<ref>', 'NAME or NAME@VERSION')
    .option(
      '--format <format>',
      'csv, jsonl or ndjson (JSON lines with @timestamp, for Elasticsearch)',
      'csv',
    )
    .option('--bulk-index <name>', 'ndjson: put each row behind an index action line (a body for POST _bulk)')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--since <date>', 'only predictions from this date on')
    .option('--home <dir>', 'registry home')
    .action(async (ref, opts) => (await import('./commands/monitor.js')).logExportCommand(ref, opts));
  log
    .command('delete')
    .description('forget logged predictions and their feedback (audited; the space is reclaimed)')
    .argument('<ref>', 'NAME or NAME@VERSION')
    .option('--ids <file>', 'a file of request ids, one per line')
    .option('--before <date>', 'predictions logged before this date (e.g. 2026-11-25)')
    .option('--where <feature=value>', 'predictions whose feature (name or column index) has this value')
    .option('--config <file>', "the server config (models' redaction rules, hash salt)")
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, opts) => (await import('./commands/log-delete.js')).logDeleteCommand(ref, opts));
  const monitor = program.command('monitor').description('quality, drift and data quality of served models');
  const reference = monitor
    .command('reference')
    .description('the reference data set drift is measured against');
  reference
    .command('set')
    .description('attach a CSV (one column per feature, optionally the target last) to a model version')
    .argument('<ref>', 'NAME, NAME@VERSION or NAME@ALIAS (default: the latest version)')
    .argument('<file>', 'the CSV file')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, file, opts) =>
      (await import('./commands/monitor.js')).referenceSetCommand(ref, file, opts),
    );
  monitor
    .command('show')
    .description("a version's quality, drift and alerts over a window (default: the last 1000 predictions)")
    .argument('<ref>', 'NAME (its champion) or NAME@VERSION')
    .option('--window <duration>', 'a time window, e.g. 1h')
    .option('--last <n>', 'the last N predictions')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, opts) => (await import('./commands/monitor.js')).monitorShowCommand(ref, opts));
  program
    .command('alerts')
    .description('alerts pending or firing, and the latest alert events')
    .option('--limit <n>', 'events to show (default 20)')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/monitor.js')).alertsCommand(opts));

  program
    .command('gc')
    .description('remove model files no version uses, and leftovers of interrupted pushes')
    .option('--dry-run', 'list what would be removed, remove nothing')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/lifecycle.js')).gcCommand(opts));
  program
    .command('export')
    .description('write a model with all its versions, aliases and lineage to one tar archive')
    .argument('<ref>', 'model NAME')
    .requiredOption('--out <file>', 'the archive to write (.tar)')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, opts) => (await import('./commands/lifecycle.js')).exportCommand(ref, opts));
  program
    .command('import')
    .description(
      'add a model from an archive written by `tend export` (every file checked against its sha256)',
    )
    .argument('<file>', 'the archive')
    .option('--as <name>', 'import under this model name')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (file, opts) => (await import('./commands/lifecycle.js')).importCommand(file, opts));

  const alias = program.command('alias').description('move, remove and audit aliases');
  alias
    .command('set')
    .description('point ALIAS of model NAME at VERSION')
    .argument('<name>')
    .argument('<alias>')
    .argument('<version>')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (name, a, version, opts) =>
      (await import('./commands/registry.js')).aliasSetCommand(name, a, version, opts),
    );
  alias
    .command('rm')
    .description('remove ALIAS of model NAME')
    .argument('<name>')
    .argument('<alias>')
    .option('--home <dir>', 'registry home')
    .action(async (name, a, opts) => (await import('./commands/registry.js')).aliasRmCommand(name, a, opts));
  alias
    .command('history')
    .description('every move of ALIAS: who, when, from, to')
    .argument('<name>')
    .argument('<alias>')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (name, a, opts) =>
      (await import('./commands/registry.js')).aliasHistoryCommand(name, a, opts),
    );

  const deploy = program
    .command('deploy')
    .description('route an endpoint: canary, shadow, experiment, promote, rollback');
  const deployCommand = (name: string, description: string) =>
    deploy
      .command(name)
      .description(description)
      .option('--home <dir>', 'registry home')
      .option('--json', 'print JSON');
  deployCommand('canary', "send PERCENT% of ENDPOINT's traffic (by request id) to REF")
    .argument('<endpoint>')
    .argument('<ref>', 'a version or alias of the endpoint (2, staging, NAME@2)')
    .requiredOption('--percent <p>', 'share of requests, 0 to 100', percent)
    .option('--reason <text>', 'recorded in the history')
    .option('--min-requests <n>', 'canary requests before any automatic decision (default 100)', positiveInt)
    .option(
      '--max-error-rate-increase <x>',
      "roll back when the canary's error rate exceeds the champion's by more than this, 0 to 1 (default 0.05)",
      finiteNumber,
    )
    .option(
      '--max-p99-ratio <x>',
      "roll back when the canary's p99 latency is over this × the champion's",
      finiteNumber,
    )
    .option(
      '--promote-after-requests <n>',
      'promote once the canary answered this many requests within bounds',
      positiveInt,
    )
    .option('--promote-after <duration>', '…and has run this long, e.g. 10m (a plain number is seconds)')
    .option(
      '--quality-metric <metric>',
      'roll back on ground truth: accuracy, f1_macro, roc_auc, mae, rmse, … (needs feedback)',
    )
    .option(
      '--max-quality-drop <x>',
      'how much worse than the champion on --quality-metric (default 0.02)',
      finiteNumber,
    )
    .option('--min-labelled <n>', 'labelled predictions each side needs first (default 100)', positiveInt)
    .option('--no-auto-rollback', 'never roll back on its own (promotion rules still apply)')
    .action(async (endpoint, ref, opts) =>
      (await import('./commands/deploy.js')).deployCanaryCommand(endpoint, ref, opts),
    );
  deployCommand('shadow', "mirror ENDPOINT's champion traffic to REF (answers compared, never returned)")
    .argument('<endpoint>')
    .argument('<ref>')
    .option('--reason <text>', 'recorded in the history')
    .action(async (endpoint, ref, opts) =>
      (await import('./commands/deploy.js')).deployShadowCommand(endpoint, ref, opts),
    );
  deployCommand('experiment', "split ENDPOINT's traffic between weighted variants (A/B)")
    .argument('<endpoint>')
    .argument('<variants...>', 'REF=WEIGHT, e.g. 2=50 3=50')
    .option('--sticky-by <header>', 'keep a caller on one variant by this request header')
    .option('--reason <text>', 'recorded in the history')
    .action(async (endpoint, variants, opts) =>
      (await import('./commands/deploy.js')).deployExperimentCommand(endpoint, variants, opts),
    );
  deployCommand('promote', 'the canary becomes the champion')
    .argument('<endpoint>')
    .option('--reason <text>', 'recorded in the history')
    .action(async (endpoint, opts) =>
      (await import('./commands/deploy.js')).deployPromoteCommand(endpoint, opts),
    );
  deployCommand('rollback', 'back to the champion alone')
    .argument('<endpoint>')
    .option('--reason <text>', 'recorded in the history')
    .action(async (endpoint, opts) =>
      (await import('./commands/deploy.js')).deployRollbackCommand(endpoint, opts),
    );
  deployCommand('status', "the endpoint's routes")
    .argument('<endpoint>')
    .action(async (endpoint, opts) =>
      (await import('./commands/deploy.js')).deployStatusCommand(endpoint, opts),
    );
  deployCommand('history', "every change of the endpoint's routes: who, when, before, after, why")
    .argument('<endpoint>')
    .action(async (endpoint, opts) =>
      (await import('./commands/deploy.js')).deployHistoryCommand(endpoint, opts),
    );

  program
    .command('infer')
    .description('run a model on a V2 request body (.json) or rows of features (.csv)')
    .argument('<ref>', 'NAME, NAME@ALIAS or NAME@VERSION')
    .requiredOption('--data <file>', 'a V2 JSON request body, or a CSV with one row per item')
    .option('--url <url>', 'a running server (default: run in this process)')
    .option('--home <dir>', 'registry home')
    .option('--repo <dir>', 'also look in this repository (repeatable)', collect, [])
    .option('--json', 'print the V2 response as JSON')
    .action(async (ref, opts) => (await import('./commands/infer.js')).inferCommand(ref, opts));

  program
    .command('explain')
    .description('attributions of rows: KernelSHAP (default) or LIME, background from the reference data')
    .argument('<ref>', 'NAME, NAME@ALIAS or NAME@VERSION')
    .requiredOption('--data <file>', 'a CSV with one row of features per item (or a V2 JSON request body)')
    .option('--method <method>', 'kernel_shap or lime', 'kernel_shap')
    .option(
      '--nsamples <n>',
      'coalitions (kernel_shap, default 2·M+2048) or perturbations (lime, default 5000)',
    )
    .option('--seed <s>', 'seed of the sampling (default 0)')
    .option('--output <name>', 'explain this output only')
    .option('--top-k <k>', 'lime: features reported per class (default 10)')
    .option('--url <url>', 'a running server (default: run in this process)')
    .option('--home <dir>', 'registry home')
    .option('--repo <dir>', 'also look in this repository (repeatable)', collect, [])
    .option('--json', 'print the explain response as JSON')
    .action(async (ref, opts) => (await import('./commands/explain.js')).explainCommand(ref, opts));

  program
    .command('bench')
    .description(
      'measure latency percentiles, rates and server queue/compute times under load, over HTTP or gRPC (like perf_analyzer)',
    )
    .argument('<ref>', 'NAME, NAME@ALIAS or NAME@VERSION')
    .option('--url <url>', 'a running server (default: start one on free ports)')
    .option('--protocol <protocol>', 'http or grpc (KServe V2 ModelInfer)', 'http')
    .option('--grpc-address <host:port>', 'gRPC frontend of the --url server (default: its host, port 8001)')
    .option('--binary', 'HTTP: send tensors with the binary tensor extension instead of JSON')
    .option(
      '--concurrency <list>',
      'closed loop: clients each waiting for its answer, per level (default 1,8,32)',
    )
    .option(
      '--request-rate <list>',
      'open loop: requests sent per second on a fixed schedule, per level, e.g. 2000',
    )
    .option('--max-in-flight <n>', 'open loop: cap on requests in flight (default 10000)', positiveInt)
    .option('--duration <time>', 'measured time per level, e.g. 10s', '10s')
    .option('--warmup <time>', 'warm-up per level', '1s')
    .option('--batch <n>', 'items per request', positiveInt, 1)
    .option(
      '--shape <name=dims>',
      'dimensions of an input with dynamic dimensions, e.g. input_ids=1,128 (repeatable)',
      collect,
      [],
    )
    .option('--data <file>', 'send this V2 request body instead of generated data')
    .option('--csv <file>', 'write one row per request: level, send time, latency, status')
    .option('--home <dir>', 'registry home')
    .option('--repo <dir>', 'also serve this repository (repeatable)', collect, [])
    .option('--json', 'print JSON')
    .action(async (ref, opts) => (await import('./commands/bench.js')).benchCommand(ref, opts));

  program
    .command('train')
    .description(
      'train a model on a CSV (linear, ridge, logistic, softmax or MLP), register it with its run and its training data as reference',
    )
    .option('--data <csv>', 'training data: a header row, numeric feature columns, the target column')
    .option('--target <column>', 'the column to predict (class names or numbers)')
    .option('--model <kind>', 'linear, ridge, logistic, softmax or mlp')
    .option('--command <cmd>', 'any training command instead of --model, under the external command contract')
    .option('--params <json>', '--command: its TEND_PARAMS, a JSON object (default {})')
    .requiredOption('--name <name>', 'the registry model the new version joins')
    .option('--task <task>', 'mlp: classification or regression (default: from the target column)')
    .option('--hidden <sizes>', 'mlp: hidden layer widths, e.g. 64,32 (default 64)')
    .option('--activation <fn>', 'mlp: relu (default) or tanh')
    .option('--optimizer <name>', 'mlp: adam (default) or sgd (with momentum)')
    .option('--epochs <n>', 'passes over the training rows')
    .option('--lr <x>', 'learning rate')
    .option('--batch-size <n>', 'rows per step')
    .option('--l2 <x>', 'L2 penalty (ridge: alpha)')
    .option('--seed <n>', 'seed of the split, the initial weights and the batch order (default 0)')
    .option(
      '--validation <fraction>',
      'share of rows held out for validation and early stopping (default 0.1)',
    )
    .option(
      '--categorical <columns>',
      'integer-coded feature columns to one-hot encode inside the graph, e.g. region,grade',
    )
    .option('--alias <alias>', 'point this alias at the new version')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/train.js')).trainCommand(opts));
  program
    .command('update')
    .description(
      'a new version from new data, warm-started from a registered tend-trained version (never changes it)',
    )
    .argument('<ref>', 'NAME, NAME@VERSION or NAME@ALIAS (default: the latest version)')
    .requiredOption('--data <csv>', 'the new rows: the same columns as the training data')
    .requiredOption(
      '--mode <mode>',
      'online (one SGD step per row), minibatch, batch or incremental (new data + --replay)',
    )
    .option('--epochs <n>', 'passes over the new rows (minibatch, batch, incremental)')
    .option('--lr <x>', 'learning rate')
    .option('--batch-size <n>', 'rows per step (minibatch, incremental)')
    .option('--replay <n>', "incremental: mix in up to N rows of the parent's training data")
    .option('--seed <n>', 'seed of the batch order and the replay sample')
    .option('--alias <alias>', 'point this alias at the new version')
    .option(
      '--canary <percent>',
      "send this share of the model's traffic to the new version, beside its champion",
    )
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, opts) => (await import('./commands/train.js')).updateCommand(ref, opts));
  const runs = program
    .command('runs')
    .description('training runs: parameters, metrics per epoch, data set, produced version');
  runs
    .command('list')
    .description('runs, newest first')
    .option('--model <name>', "only this model's runs")
    .option('--limit <n>', 'at most this many')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/train.js')).runsListCommand(opts));
  runs
    .command('show')
    .description('one run in full')
    .argument('<run>', 'run id')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (run, opts) => (await import('./commands/train.js')).runsShowCommand(run, opts));
  runs
    .command('compare')
    .description('runs side by side; differing parameters and metrics marked')
    .argument('<runs...>', 'two or more run ids')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ids, opts) => (await import('./commands/train.js')).runsCompareCommand(ids, opts));

  const tune = program
    .command('tune')
    .description(
      'hyperparameter search: a study of trials over a search space (TPE, random or grid), pruning, the best model registered',
    )
    .option('--data <csv>', "training data for tend's trainers (TEND_DATA for --command)")
    .option('--target <column>', 'the column to predict (TEND_TARGET for --command)')
    .option('--model <kind>', 'the trainer: linear, ridge, logistic, softmax or mlp')
    .option(
      '--command <cmd>',
      'any training command instead, under the external command contract (see README)',
    )
    .option('--space <file>', 'the search space (YAML or JSON)')
    .option('--trials <n>', 'trials in the study (trials of earlier runs count on --resume)')
    .option('--sampler <name>', 'tpe (multivariate, default), random, grid or tpe-univariate')
    .option('--pruner <name>', 'median (default), halving or none')
    .option(
      '--metric <name>',
      'what a trial scores: accuracy, f1_macro, log_loss, rmse, mae, r2, or a metrics.json key',
    )
    .option('--direction <dir>', 'minimize or maximize (default: from the metric)')
    .option('--cv <k>', 'score by k-fold cross-validation')
    .option('--validation <fraction>', 'score on this held-out share of the rows (default 0.2)')
    .option('--jobs <n>', 'trials at once (default: the number of cores)')
    .option('--seed <n>', 'seed of the sampler, the split and the trainers (default 0)')
    .option('--study <name>', 'the study name (default: NAME-yyyymmddhhmmss)')
    .option('--resume', 'continue the study named by --study (after a crash, or with more --trials)')
    .option('--name <model>', "register the best trial's model under this name")
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/tune.js')).tuneCommand(opts));
  tune
    .command('list')
    .description('studies, newest first, with their trial counts and best values')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (_opts, cmd: Command) =>
      (await import('./commands/tune.js')).tuneListCommand(cmd.optsWithGlobals()),
    );
  tune
    .command('show')
    .description('a study: its best trial, every trial, parameter importances')
    .argument('<study>', 'the study name')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (study: string, _opts, cmd: Command) =>
      (await import('./commands/tune.js')).tuneShowCommand(study, cmd.optsWithGlobals()),
    );

  const token = program
    .command('token')
    .description(
      'API tokens with scopes (read, infer, feedback, deploy, admin), optionally limited to models',
    );
  token
    .command('create')
    .description('create a token; it is printed once, tend keeps only its SHA-256')
    .requiredOption('--name <name>', 'a name to recognise it by')
    .requiredOption('--scopes <scopes>', 'comma list of read, infer, feedback, deploy, admin')
    .option('--models <globs>', 'only these models, e.g. fraud-*,churn (default: all)')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/security.js')).tokenCreateCommand(opts));
  token
    .command('list')
    .description('tokens (never the tokens themselves)')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/security.js')).tokenListCommand(opts));
  token
    .command('revoke')
    .description('revoke a token by id')
    .argument('<id>', 'token id (tend token list)')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (id, opts) => (await import('./commands/security.js')).tokenRevokeCommand(id, opts));
  program
    .command('keys')
    .description(
      "encryption at rest (TEND_ENCRYPTION_KEY_FILE): model files and the prediction log's features",
    )
    .command('rotate')
    .description(
      'new active key in the key file (created when missing: turns encryption on), then re-seal every model file, artifact and log block',
    )
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/keys.js')).keysRotateCommand(opts));
  program
    .command('audit')
    .description('the append-only log of management actions: who, when, from where, before and after')
    .option('--limit <n>', 'at most this many entries (default 100)')
    .option('--action <action>', "only this action, or a prefix such as 'model.*'")
    .option('--since <date>', 'only entries from this date on')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/security.js')).auditCommand(opts));
  program
    .command('keygen')
    .description('make an ed25519 signing key pair')
    .requiredOption('--out <dir>', 'folder for tend-signing.key and tend-signing.pub')
    .option('--json', 'print JSON')
    .action(async (opts) => (await import('./commands/security.js')).keygenCommand(opts));
  program
    .command('sign')
    .description(
      'sign a version (its sha256) with an ed25519 private key; the signature is stored with the version',
    )
    .argument('<ref>', 'NAME, NAME@VERSION or NAME@ALIAS')
    .requiredOption('--key <pem>', 'the private key (tend keygen)')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, opts) => (await import('./commands/security.js')).signCommand(ref, opts));
  program
    .command('verify')
    .description(
      'check a version: its file against its sha256, and its signature against trusted keys (exit 1 when a check fails)',
    )
    .argument('<ref>', 'NAME, NAME@VERSION or NAME@ALIAS')
    .option('--keys <dir>', 'folder of trusted public keys (default $TEND_TRUSTED_KEYS_DIR)')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print JSON')
    .action(async (ref, opts) => (await import('./commands/security.js')).verifyCommand(ref, opts));

  program
    .command('report')
    .description(
      'drift, data quality and quality of a current CSV against a reference CSV, with the model run here, as one self-contained HTML file',
    )
    .argument('<ref>', 'NAME, NAME@ALIAS or NAME@VERSION')
    .requiredOption(
      '--reference <file>',
      'the reference CSV (one column per feature, optionally the target last)',
    )
    .requiredOption('--current <file>', 'the current CSV (the same feature columns, optionally the target)')
    .option('--labels', "the current CSV's target column is the ground truth: adds the quality section")
    .option('--out <file>', 'the HTML report to write')
    .option('--home <dir>', 'registry home')
    .option('--json', 'print the report as JSON')
    .action(async (ref, opts) => (await import('./commands/report.js')).reportCommand(ref, opts));

  const demo = program
    .command('demo')
    .description('train the digits model (first run only), register it and serve it')
    .option('--home <dir>', 'registry home')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', portNumber, 8000)
    .option('--grpc-port <port>', 'gRPC port', portNumber, 8001)
    .option('--no-grpc', 'serve HTTP only')
    .option('--no-serve', 'train and register only')
    .option('--json', 'print JSON (with --no-serve)')
    .action(async (opts) => (await import('./commands/demo.js')).demoCommand(opts));
  // Options of `traffic` must not reuse the names of `demo`'s own (--home, --host, --port, --json, ...): demo
  // would take them.
  demo
    .command('traffic')
    .description(
      'send labelled digits traffic and feedback to a running demo; with --drift the second half drifts',
    )
    .option('--url <url>', 'the demo server', 'http://127.0.0.1:8000')
    .option('--drift', 'shift 8 pixel columns and send wrong labels in the second half')
    .option('--requests <n>', 'requests to send', positiveInt, 1000)
    .option('--rows <n>', 'rows (digits) per request', positiveInt, 10)
    .option('--concurrency <n>', 'clients sending at once', positiveInt, 4)
    .action(async (opts) => (await import('./commands/demo-traffic.js')).demoTrafficCommand(opts));

  program
    .command('completion')
    .description('print a shell completion script, e.g. source <(tend completion bash)')
    .argument('<shell>', 'bash, zsh or fish')
    .action(async (shell: string) => {
      const { completionScript } = await import('./completion.js');
      process.stdout.write(completionScript(program, shell));
    });

  return program;
}

/** Run the CLI; resolves when the command is done (a server keeps the process alive). */
export async function main(argv: string[]): Promise<void> {
  endQuietlyOnBrokenPipe();
  const json = wantsJson(argv);
  const program = buildProgram({ json });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successful exits; usage errors were already printed by commander.
      process.exitCode = err.exitCode === 0 ? 0 : 1;
      return;
    }
    process.exitCode = reportError(err, json);
  }
}
