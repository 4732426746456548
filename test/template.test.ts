// The mapping template language on its own: $path, $item/$up, $index, $each (flattening), $refEach, $as; and the
// shared snippets ($snippet/$param) the registry expands at load time.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FormDefinition } from '../src/engine/forms/form-definition.js';
import { resolveResources, resolveTemplate, type TemplateContext } from '../src/engine/forms/template.js';
import type { Issue } from '../src/base/outcome.js';
import type { Json, JsonObject } from '../src/base/json-paths.js';
import { expandSnippets, loadSnippets, snippetProblems } from '../src/engine/forms/snippets.js';
import { loadFormRegistry, mappingFiles } from '../src/engine/forms/registry.js';
import { PROJECT_ROOT } from '../src/base/project.js';

const def = { name: 't', codeMaps: new Map([['dow', { '1': 'mon', '7': 'sun' }]]) } as unknown as FormDefinition;
const payload = {
  header: { name: '山田　花子', created: '令和6年4月1日' },
  needs: [
    {
      need: '歩行が不安定',
      goals: [{ goal: '屋内を一人で歩ける', services: [{ what: '歩行訓練' }, { what: '手すり設置' }] }],
    },
    {
      need: '入浴が困難',
      goals: [
        { goal: '週2回入浴', services: [{ what: '入浴介助' }] },
        { goal: '清潔保持', services: [] },
      ],
    },
  ],
  week: [
    { day: '1', start: '0930' },
    { day: '7', start: '24:00' },
  ],
};

function ctx(issues: Issue[] = []): TemplateContext {
  return {
    def,
    payload,
    refs: new Map([['patient', 'urn:uuid:p']]),
    multiRefs: new Map([['goals', ['urn:uuid:g0', 'urn:uuid:g1']]]),
    issues,
  };
}

describe('mapping templates', () => {
  it('$path keeps full-width text; $as isoDate converts era dates; absent values drop their element', () => {
    const r = resolveTemplate(
      {
        a: { $path: 'header.name' },
        d: { $path: 'header.created', $as: 'isoDate' },
        gone: { $path: 'header.nothing' },
        s: { system: 'x', value: { $path: 'no' } },
      },
      ctx(),
      't',
    );
    expect(r).to.deep.equal({ a: '山田　花子', d: '2024-04-01' });
  });

  it('$each over a flattened path, with $item, $up and $index', () => {
    const r = resolveTemplate(
      [
        {
          $each: 'needs[].goals[]',
          $template: { seq: { $index: 1 }, goal: { $item: 'goal' }, need: { $item: 'need', $up: 1 } },
        },
      ],
      ctx(),
      't',
    );
    expect(r).to.deep.equal([
      { seq: 1, goal: '屋内を一人で歩ける', need: '歩行が不安定' },
      { seq: 2, goal: '週2回入浴', need: '入浴が困難' },
      { seq: 3, goal: '清潔保持', need: '入浴が困難' },
    ]);
  });

  it('$eachItem iterates a list inside the current element; empty lists give nothing', () => {
    const r = resolveTemplate(
      {
        activity: [
          {
            $each: 'needs[].goals[]',
            $template: {
              list: [{ $eachItem: 'services', $template: { d: { $item: 'what' }, g: { $item: 'goal', $up: 1 } } }],
            },
          },
        ],
      },
      ctx(),
      't',
    );
    expect(r).to.deep.equal({
      activity: [
        {
          list: [
            { d: '歩行訓練', g: '屋内を一人で歩ける' },
            { d: '手すり設置', g: '屋内を一人で歩ける' },
          ],
        },
        { list: [{ d: '入浴介助', g: '週2回入浴' }] },
      ],
    });
  });

  it('$refEach splices one reference per resource of a multi-resource alias', () => {
    expect(resolveTemplate({ goal: [{ $refEach: 'goals' }], subject: { $ref: 'patient' } }, ctx(), 't')).to.deep.equal({
      goal: [{ reference: 'urn:uuid:g0' }, { reference: 'urn:uuid:g1' }],
      subject: { reference: 'urn:uuid:p' },
    });
  });

  it('$as time and $codeMap: good values convert, bad ones are issues (never passed through)', () => {
    const issues: Issue[] = [];
    const r = resolveTemplate(
      [{ $each: 'week', $template: { day: { $item: 'day', $codeMap: 'dow' }, at: { $item: 'start', $as: 'time' } } }],
      ctx(issues),
      't',
    );
    expect(r).to.deep.equal([{ day: 'mon', at: '09:30:00' }, { day: 'sun' }]);
    expect(issues.map((i) => i.expression)).to.deep.equal(['week[1].start']);
  });

  it('a $each resource alias yields one resource per element', () => {
    const list = resolveResources(
      { $each: 'needs[].goals[]', $template: { resourceType: 'Goal', description: { text: { $item: 'goal' } } } },
      ctx(),
      'goals',
    );
    expect(list.map((g) => (g.description as { text: string }).text)).to.deep.equal([
      '屋内を一人で歩ける',
      '週2回入浴',
      '清潔保持',
    ]);
  });
});

describe('mapping templates: conditional content', () => {
  it('$if emits fixed content only with its value; a complex extension keeps its surviving sub-extensions', () => {
    const t = {
      class: [
        { $if: 'header.name', type: { text: 'plan' }, value: { $path: 'header.name' } },
        { $if: 'header.none', type: { text: 'plan' } },
      ],
      extension: [
        {
          url: 'urn:complex',
          extension: [
            { url: 'a', valueString: { $path: 'header.name' } },
            { url: 'b', valueString: { $path: 'header.none' } },
          ],
        },
        { url: 'urn:empty', extension: [{ url: 'b', valueString: { $path: 'header.none' } }] },
      ],
    };
    expect(resolveTemplate(t as unknown as Json, ctx(), 't')).to.deep.equal({
      class: [{ type: { text: 'plan' }, value: '山田　花子' }],
      extension: [{ url: 'urn:complex', extension: [{ url: 'a', valueString: '山田　花子' }] }],
    });
  });
});

describe('mapping templates: values meaning none', () => {
  it('$none drops the element for the listed values and converts the rest', () => {
    const issues: Issue[] = [];
    const r = resolveTemplate(
      [{ $each: 'week', $template: { at: { $item: 'start', $as: 'time', $none: ['2400', '24:00'] } } }],
      ctx(issues),
      't',
    );
    expect(r).to.deep.equal([{ at: '09:30:00' }]);
    expect(issues).to.deep.equal([]);
  });
});

// Shared snippets (mappings/snippets/): uses are expanded at load time into the template they stand for.
const snippet = (name: string, parameters: Record<string, string>, required: string[], template: Json) =>
  [name, { name, description: `test snippet ${name}`, parameters, required, template }] as const;
const snippets = new Map([
  snippet(
    'person',
    { id: 'path of the id', name: 'path of the name', phone: 'path of the phone', address: 'the address list' },
    ['id'],
    {
      resourceType: 'Patient',
      identifier: [{ system: 'urn:id', value: { $path: { $param: 'id' } } }],
      name: [{ use: 'usual', text: { $path: { $param: 'name' } } }],
      telecom: [{ system: 'phone', value: { $path: { $param: 'phone' } } }],
      gender: { $path: { $param: 'phone' }, $codeMap: 'dow' },
      address: { $param: 'address' },
    },
  ),
  snippet('phone', { phone: 'path of the phone' }, ['phone'], {
    system: 'phone',
    value: { $path: { $param: 'phone' } },
  }),
  // Nested: a snippet that uses another, passing one of its own parameters on.
  snippet('office', { tel: 'path of the phone' }, [], {
    resourceType: 'Organization',
    telecom: [{ $snippet: 'phone', with: { phone: { $param: 'tel' } } }],
  }),
  snippet('loop', { x: 'anything' }, [], { again: { $snippet: 'loop', with: { x: { $param: 'x' } } } }),
]);
const FILE = 'mappings/t.mapping.json';
const expand = (resources: Json): Json | undefined => expandSnippets({ resources }, snippets, FILE).resources;
const startupError = (resources: Json): string => {
  try {
    expand(resources);
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

describe('mapping snippets', () => {
  it('a use becomes the snippet template with its parameters substituted, in the template order', () => {
    const r = expand({
      patient: {
        $snippet: 'person',
        with: {
          address: [{ text: { $path: 'header.address' } }],
          phone: 'header.tel',
          name: 'header.name',
          id: 'h.id',
        },
      },
    });
    // Compared as text: the expanded template's key order is what a golden Bundle's key order comes from.
    expect(JSON.stringify(r)).to.equal(
      JSON.stringify({
        patient: {
          resourceType: 'Patient',
          identifier: [{ system: 'urn:id', value: { $path: 'h.id' } }],
          name: [{ use: 'usual', text: { $path: 'header.name' } }],
          telecom: [{ system: 'phone', value: { $path: 'header.tel' } }],
          gender: { $path: 'header.tel', $codeMap: 'dow' },
          address: [{ text: { $path: 'header.address' } }],
        },
      }),
    );
    expect(resolveResources((r as JsonObject).patient as JsonObject, ctx(), 'patient')).to.deep.equal([
      { resourceType: 'Patient', name: [{ use: 'usual', text: '山田　花子' }] },
    ]);
  });

  it('a left-out optional parameter takes its directive and the scaffolding that held only it', () => {
    const r = expand({ patient: { $snippet: 'person', with: { id: 'h.id' } } });
    expect(r).to.deep.equal({
      patient: { resourceType: 'Patient', identifier: [{ system: 'urn:id', value: { $path: 'h.id' } }] },
    });
  });

  it('nested snippets: inside a snippet, and as a value passed in; values passed are inserted as written', () => {
    expect(expand({ org: { $snippet: 'office', with: { tel: 'o.tel' } } })).to.deep.equal({
      org: { resourceType: 'Organization', telecom: [{ system: 'phone', value: { $path: 'o.tel' } }] },
    });
    // A left-out parameter passed on is left out below too: here it empties the telecom list.
    expect(expand({ org: { $snippet: 'office' } })).to.deep.equal({ org: { resourceType: 'Organization' } });
    const r = expand({
      p: {
        $snippet: 'person',
        with: {
          id: 'h.id',
          address: [
            { $snippet: 'phone', with: { phone: 'a.b' } },
            { $each: 'x', $template: 1 },
          ],
        },
      },
    });
    expect((r as { p: JsonObject }).p.address).to.deep.equal([
      { system: 'phone', value: { $path: 'a.b' } },
      { $each: 'x', $template: 1 },
    ]);
  });

  it('an unknown snippet stops start-up, naming the mapping file and the place', () => {
    expect(startupError({ patient: { $snippet: 'persn', with: { id: 'h.id' } } })).to.include(
      'mappings/t.mapping.json resources.patient: unknown snippet "persn"',
    );
  });

  it('a missing parameter stops start-up, naming the mapping file, the place and the parameter', () => {
    expect(startupError({ a: [{ $snippet: 'person', with: { name: 'h.name' } }] })).to.include(
      'mappings/t.mapping.json resources.a[0]: snippet "person" needs parameter "id" (path of the id)',
    );
  });

  it('an unused parameter (one the snippet does not take) stops start-up, naming the place', () => {
    expect(startupError({ patient: { $snippet: 'person', with: { id: 'h.id', kana: 'h.kana' } } })).to.include(
      'mappings/t.mapping.json resources.patient.with.kana: snippet "person" has no parameter "kana"',
    );
  });

  it('also refused: a snippet using itself, a template for a path, $param outside a snippet, extra keys', () => {
    expect(startupError({ l: { $snippet: 'loop' } })).to.include('snippet "loop" uses itself (loop → loop)');
    expect(startupError({ p: { $snippet: 'person', with: { id: { $path: 'h.id' } } } })).to.include(
      'mappings/snippets/person.json template.identifier[0].value.$path: parameter "id" is used as $path: it must be ' +
        'passed a payload path (a string) (in the use at mappings/t.mapping.json resources.p)',
    );
    expect(startupError({ p: { name: { $param: 'id' } } })).to.include(
      'mappings/t.mapping.json resources.p.name: $param "id" outside a snippet',
    );
    expect(startupError({ p: { $snippet: 'phone', with: { phone: 'a' }, text: 'x' } })).to.include(
      'a snippet use holds "$snippet" and "with" only (found text)',
    );
  });

  it('a snippet file declares exactly the parameters its template uses', () => {
    const t = { a: { $path: { $param: 'used' } }, b: { $param: 'undeclared' } };
    expect(
      snippetProblems('s', {
        name: 's',
        description: 'd',
        parameters: { used: 'u', idle: 'i' },
        required: [],
        template: t,
      }),
    ).to.deep.equal([
      'mappings/snippets/s.json template.b: $param "undeclared" is not declared in parameters',
      'mappings/snippets/s.json: parameter "idle" is declared but the template never uses it',
    ]);
    expect(
      snippetProblems('s', { name: 'other', description: 'd', parameters: {}, required: ['x'], template: {} }),
    ).to.deep.equal([
      'mappings/snippets/s.json: name must be "s", as the file is called',
      'mappings/snippets/s.json: required must list parameters ()',
    ]);
  });
});

describe('mapping snippets: the real ones', () => {
  it('every snippet in mappings/snippets/ loads and is used by some mapping', () => {
    const real = loadSnippets(PROJECT_ROOT);
    expect([...real.keys()]).to.include.members(['patient', 'insurer-organization', 'care-office-organization']);
    const text = mappingFiles(PROJECT_ROOT)
      .map((f) => readFileSync(join(PROJECT_ROOT, 'mappings', f), 'utf8'))
      .join('\n');
    for (const name of real.keys()) expect(text, name).to.include(`"$snippet": "${name}"`);
  });

  it('a mapping whose snippet use does not resolve stops the registry loading, naming the file', () => {
    const root = mkdtempSync(join(tmpdir(), 'kaigo-snippets-'));
    try {
      mkdirSync(join(root, 'mappings'));
      symlinkSync(join(PROJECT_ROOT, 'profiles'), join(root, 'profiles'));
      for (const d of ['codemaps', 'snippets'])
        symlinkSync(join(PROJECT_ROOT, 'mappings', d), join(root, 'mappings', d));
      const file = 'futan-wariai-sho.mapping.json';
      const mapping = JSON.parse(readFileSync(join(PROJECT_ROOT, 'mappings', file), 'utf8')) as JsonObject;
      const patient = (mapping.resources as JsonObject).patient as { with: JsonObject };
      delete patient.with.insuredNumber;
      writeFileSync(join(root, 'mappings', file), JSON.stringify(mapping));
      expect(() => loadFormRegistry(root)).to.throw(
        'mappings/futan-wariai-sho.mapping.json resources.patient: snippet "patient" needs parameter "insuredNumber"',
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
