// Spectral function of the project rules `accounting-valid-media-example` and `accounting-valid-schema-example`
// (.spectral.yaml): every example, examples entry and default validated against its schema, as the built-in
// oas3-valid-media-example / oas3-valid-schema-example do, but with an ajv that decides `multipleOf` as JSON
// Schema defines it. ajv divides binary floats, so `12.34 / 0.0001` is 123399.99999999999 and 12.34 fails
// `multipleOf: 0.0001` in the built-in rules; the contract means `multipleOf` exactly and tells validators that
// divide to set `multipleOfPrecision: 4` (openapi.yaml, "Adopted rule: amount bounds").
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

const logger = {
  log() {},
  warn(message) {
    if (!String(message).startsWith('unknown format')) console.warn(message);
  },
  error(message) {
    console.error(message);
  },
};

const ajv = new Ajv2020({
  allErrors: true,
  strict: false, // OpenAPI keywords (example, discriminator, xml) and x- extensions are not JSON Schema's
  allowUnionTypes: true,
  multipleOfPrecision: 4,
  unicodeRegExp: false,
  logger,
});
addFormats(ajv);

const compiled = new WeakMap();

function validatorFor(schema) {
  if (typeof schema === 'boolean') return ajv.compile(schema);
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

const isObject = value => typeof value === 'object' && value !== null && !Array.isArray(value);

// A request need not send readOnly properties, a response need not send writeOnly ones (as the built-in rule).
function relaxRequired(schema, keyword) {
  if (Array.isArray(schema)) return schema.map(item => relaxRequired(item, keyword));
  if (!isObject(schema)) return schema;
  const copy = {};
  for (const [key, value] of Object.entries(schema)) copy[key] = relaxRequired(value, keyword);
  if (Array.isArray(copy.required) && isObject(copy.properties)) {
    copy.required = copy.required.filter(name => !(isObject(copy.properties[name]) && copy.properties[name][keyword] === true));
  }
  return copy;
}

function mediaKind(path) {
  const under = (...prefix) => prefix.every((part, i) => part === '*' || part === path[i]);
  if (under('components', 'requestBodies') || under('paths', '*', '*', 'requestBody')) return 'readOnly';
  if (under('components', 'responses') || under('paths', '*', '*', 'responses')) return 'writeOnly';
  return undefined;
}

// (value, path) of each example the target holds: a media type's / parameter's / header's `example` and the
// `value` of each `examples` entry (externalValue skipped), or a schema's `example`, `default` and `examples` items.
function* examplesOf(target, type, path) {
  if (type === 'media') {
    if (target.example !== undefined) yield [target.example, [...path, 'example']];
    if (isObject(target.examples)) {
      for (const [name, entry] of Object.entries(target.examples)) {
        if (isObject(entry) && !('externalValue' in entry) && entry.value !== undefined) {
          yield [entry.value, [...path, 'examples', name, 'value']];
        }
      }
    }
    return;
  }
  if (target.example !== undefined) yield [target.example, [...path, 'example']];
  if (target.default !== undefined) yield [target.default, [...path, 'default']];
  if (Array.isArray(target.examples)) {
    for (const [i, item] of target.examples.entries()) yield [item, [...path, 'examples', i]];
  }
}

const segments = pointer => (pointer === '' ? [] : pointer.slice(1).split('/').map(s => s.replace(/~1/g, '/').replace(/~0/g, '~')));

// What an error is about: the value itself ('the example', 'the default') or a place inside it ("invoice.status").
const about = (error, whole) => (error.instancePath === '' ? whole : `"${segments(error.instancePath).join('.')}"`);

function describe(error, whole) {
  const extra = error.keyword === 'additionalProperties' ? ` ("${error.params.additionalProperty}")` : '';
  return `${about(error, whole)} ${error.message}${extra}`;
}

// ajv's errors, one result per failure: a oneOf/anyOf that failed is one result giving its branches' reasons
// (or the branches that matched, for a oneOf that matched several), not one result per branch.
function results(errors, path) {
  const whole = path[path.length - 1] === 'default' ? 'the default' : 'the example';
  const combinators = errors.filter(e => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const inside = (error, combinator) => error !== combinator && error.schemaPath.startsWith(`${combinator.schemaPath}/`);
  const found = [];
  for (const error of errors) {
    if (combinators.some(c => inside(error, c))) continue;
    let message = describe(error, whole);
    if (combinators.includes(error)) {
      const passing = error.params && error.params.passingSchemas;
      const reasons = [...new Set(errors.filter(e => inside(e, error))
        .map(e => (e.instancePath === error.instancePath ? e.message : describe(e, whole))))];
      message = Array.isArray(passing)
        ? `${about(error, whole)} matches branches ${passing.join(' and ')} of ${error.keyword}, not exactly one`
        : `${about(error, whole)} matches no branch of ${error.keyword}: ${reasons.join('; ')}`;
    }
    found.push({ message, path: [...path, ...segments(error.instancePath)] });
  }
  return found;
}

export default function exampleMatchesSchema(target, options, context) {
  if (!isObject(target)) return [];
  const type = options && options.type === 'schema' ? 'schema' : 'media';
  let schema = type === 'schema' ? target : target.schema;
  if (!isObject(schema) && typeof schema !== 'boolean') return [];
  const relax = type === 'media' ? mediaKind(context.path) : undefined;
  let validate;
  try {
    if (relax !== undefined && JSON.stringify(schema).includes(`"${relax}"`)) schema = relaxRequired(schema, relax);
    validate = validatorFor(schema);
  } catch (error) {
    return [{ message: `the schema cannot be compiled: ${error.message}`, path: context.path }];
  }
  const found = [];
  for (const [value, path] of examplesOf(target, type, context.path)) {
    if (!validate(value)) found.push(...results(validate.errors || [], path));
  }
  return found;
}
