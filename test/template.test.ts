// The mapping template language on its own: $path, $item/$up, $index, $each (flattening), $refEach, $as.
import { expect } from 'chai';
import type { FormDefinition } from '../src/engine/forms/form-definition.js';
import { resolveResources, resolveTemplate, type TemplateContext } from '../src/engine/forms/template.js';
import type { Issue } from '../src/base/outcome.js';
import type { Json } from '../src/base/json-paths.js';

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
