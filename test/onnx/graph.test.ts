import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Attribute } from '../../src/onnx/attribute.js';
import { makeGraph } from '../../src/onnx/builders.js';
import type { Graph } from '../../src/onnx/graph.js';
import { Node } from '../../src/onnx/node.js';
import { Tensor } from '../../src/onnx/tensor.js';
import { makeValueInfo } from '../../src/onnx/value-info.js';

const f32 = (name: string) => makeValueInfo(name, 'float32', ['N', 4]);
const weight = (name: string) => Tensor.fromArray(name, 'float32', [4, 4], new Float32Array(16).fill(0.5));

/** x → MatMul(w) → a → Relu → b → Add(a) → y, plus a dead branch. */
function diamond(): Graph {
  return makeGraph({
    nodes: [
      new Node('MatMul', ['x', 'w'], ['a'], { name: 'mm' }),
      new Node('Relu', ['a'], ['b'], { name: 'relu' }),
      new Node('Add', ['a', 'b'], ['y'], { name: 'add' }),
      new Node('Neg', ['b'], ['unused'], { name: 'dead' }),
    ],
    inputs: [f32('x')],
    outputs: [f32('y')],
    initializers: [weight('w'), weight('w_unused')],
  });
}

/** If whose branches read the outer-scope weight `w`; the If comes before `w2`'s producer in the list. */
function withSubgraph(): Graph {
  const branch = (name: string, op: string) =>
    makeGraph({
      name,
      nodes: [new Node(op, ['x', 'w'], [`${name}_out`])],
      inputs: [],
      outputs: [f32(`${name}_out`)],
    });
  const ifNode = new Node('If', ['cond'], ['y'], {
    name: 'if',
    attributes: [
      Attribute.graph('then_branch', branch('then', 'MatMul')),
      Attribute.graph('else_branch', branch('else', 'Add')),
    ],
  });
  return makeGraph({
    nodes: [ifNode, new Node('Identity', ['x0'], ['x'], { name: 'id' })],
    inputs: [f32('x0'), makeValueInfo('cond', 'bool', [])],
    outputs: [f32('y')],
    initializers: [weight('w')],
  });
}

describe('Graph look-ups', () => {
  it('finds producers and consumers', () => {
    const g = diamond();
    assert.equal(g.producer('a')?.name, 'mm');
    assert.deepEqual(
      g.consumers('a').map((n) => n.name),
      ['relu', 'add'],
    );
    assert.deepEqual(
      g.consumers('b').map((n) => n.name),
      ['add', 'dead'],
    );
    assert.equal(g.producer('x'), undefined);
    assert.deepEqual(g.tensorType('w'), { dtype: 'float32', shape: [4, 4] });
    assert.deepEqual(g.tensorType('x'), { dtype: 'float32', shape: ['N', 4] });
  });

  it('keeps look-ups current after edits through nodes', () => {
    const g = diamond();
    g.nodes[1].setInput(0, 'x');
    assert.deepEqual(
      g.consumers('a').map((n) => n.name),
      ['add'],
    );
    assert.deepEqual(
      g.consumers('x').map((n) => n.name),
      ['mm', 'relu'],
    );
  });

  it('counts a node whose subgraph reads an outer value as its consumer', () => {
    const g = withSubgraph();
    assert.deepEqual(
      g.consumers('w').map((n) => n.name),
      ['if'],
    );
    assert.deepEqual([...g.implicitInputs(g.nodes[0])].sort(), ['w', 'x']);
    const thenGraph = g.nodes[0].subgraphs()[0];
    assert.equal(thenGraph.parent, g);
    assert.equal(thenGraph.findInitializer('w')?.name, 'w');
    assert.deepEqual([...thenGraph.freeNames()].sort(), ['w', 'x']);
  });
});

describe('Graph ordering', () => {
  it('sorts topologically, subgraph reads included, keeping valid order unchanged', () => {
    const g = withSubgraph();
    g.sortTopologically();
    assert.deepEqual(
      g.nodes.map((n) => n.name),
      ['id', 'if'],
    );
    const d = diamond();
    d.sortTopologically();
    assert.deepEqual(
      d.nodes.map((n) => n.name),
      ['mm', 'relu', 'add', 'dead'],
    );
  });

  it('reports a cycle naming a node', () => {
    const g = makeGraph({
      nodes: [new Node('Relu', ['b'], ['a'], { name: 'r1' }), new Node('Relu', ['a'], ['b'], { name: 'r2' })],
      inputs: [],
      outputs: [f32('a')],
    });
    assert.throws(() => g.sortTopologically(), /cycle through node 'r[12]'/);
  });
});

describe('Graph editing', () => {
  it('generates names unique across the model, subgraphs included', () => {
    const g = withSubgraph();
    assert.equal(g.uniqueName('then_out'), 'then_out_1');
    assert.equal(g.uniqueName('then_out'), 'then_out_2');
    assert.equal(g.uniqueName('fresh'), 'fresh');
    assert.equal(g.nodes[0].subgraphs()[0].uniqueName('fresh'), 'fresh_1');
  });

  it('inserts a node on an edge for all or some consumers', () => {
    const g = diamond();
    g.insertOnEdge('a', new Node('Sigmoid', ['a'], ['a_sig'], { name: 'sig' }), [g.producer('y')!]);
    assert.deepEqual(g.producer('y')?.inputs, ['a_sig', 'b']);
    assert.deepEqual(g.nodes[1].inputs, ['a'], 'relu still reads a');
    g.insertOnEdge('b', new Node('Tanh', ['b'], ['b_t'], { name: 't' }));
    assert.deepEqual(g.producer('y')?.inputs, ['a_sig', 'b_t']);
    assert.deepEqual(g.producer('unused')?.inputs, ['b_t']);
    const order = g.nodes.map((n) => n.name);
    assert.ok(order.indexOf('t') > order.indexOf('relu') && order.indexOf('t') < order.indexOf('add'));
  });

  it('keeps a graph output name when inserting on it', () => {
    const g = diamond();
    g.insertOnEdge('y', new Node('Relu', ['y'], ['y_relu'], { name: 'post' }));
    assert.equal(g.producer('y')?.name, 'post');
    assert.equal(g.producer('y_pre')?.name, 'add');
    assert.deepEqual(g.producer('y')?.inputs, ['y_pre']);
    assert.deepEqual(
      g.outputs.map((o) => o.name),
      ['y'],
    );
  });

  it('replaces uses inside subgraphs too', () => {
    const g = withSubgraph();
    g.replaceAllUses('w', 'w_q');
    const [thenG, elseG] = g.nodes[0].subgraphs();
    assert.deepEqual(thenG.nodes[0].inputs, ['x', 'w_q']);
    assert.deepEqual(elseG.nodes[0].inputs, ['x', 'w_q']);
    assert.deepEqual(g.consumers('w'), []);
  });

  it('removes dead nodes and unused initializers, keeping what subgraphs read', () => {
    const g = diamond();
    assert.equal(g.removeDeadNodes(), 1);
    assert.deepEqual(
      g.nodes.map((n) => n.name),
      ['mm', 'relu', 'add'],
    );
    assert.equal(g.removeUnusedInitializers(), 1);
    assert.deepEqual([...g.initializers.keys()], ['w']);
    const s = withSubgraph();
    assert.equal(s.removeUnusedInitializers(), 0);
    assert.equal(s.removeDeadNodes(), 0);
  });
});

describe('Node attributes', () => {
  it('reads typed attributes and rejects the wrong type with the node named', () => {
    const n = new Node('Conv', ['x', 'w'], ['y'], {
      name: 'c1',
      attributes: [
        Attribute.ints('strides', [2, 2]),
        Attribute.int('group', 1),
        Attribute.float('alpha', 0.5),
      ],
    });
    assert.deepEqual(n.getInts('strides'), [2, 2]);
    assert.equal(n.getInt('group'), 1);
    assert.equal(n.getInt('missing', 7), 7);
    assert.throws(() => n.getInt('alpha'), /node 'c1' \(Conv\): attribute 'alpha' is FLOAT, expected INT/);
    assert.throws(() => n.getInt('missing'), /required attribute 'missing' is missing/);
  });

  it('clamps int64 sentinels beyond 2^53 to the largest safe integer', () => {
    const n = new Node('Slice', [], [], { attributes: [Attribute.ints('ends', [2n ** 63n - 1n])] });
    assert.deepEqual(n.getInts('ends'), [Number.MAX_SAFE_INTEGER]);
  });
});
