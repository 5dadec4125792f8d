// Training and test loss over epochs, as two lines (d3 scales and axes), and the readouts.
import * as d3 from 'd3';

export class LossView {
  constructor(svg, readout) {
    this.svg = d3.select(svg);
    this.readout = readout;
    this.history = [];
  }

  reset() {
    this.history = [];
    this.draw();
  }

  add(frame) {
    const last = this.history[this.history.length - 1];
    if (last && last.step === frame.step) return;
    this.history.push({ step: frame.step, epoch: frame.epoch, train: Number(frame.train_loss), test: Number(frame.test_loss) });
    const accuracy = frame.test_accuracy === null ? '' : `, test accuracy ${(100 * frame.test_accuracy).toFixed(1)}%`;
    this.readout.textContent = `Epoch ${frame.epoch}: training loss ${Number(frame.train_loss).toFixed(3)}, `
      + `test loss ${Number(frame.test_loss).toFixed(3)}${accuracy}`;
    this.draw();
  }

  draw() {
    const node = this.svg.node();
    const width = node.clientWidth || 280;
    const height = node.clientHeight || 120;
    const margin = { left: 40, right: 8, top: 8, bottom: 22 };
    const points = this.history;
    // At least one epoch wide, whole epochs on the axis (at epoch 0 the domain was [0, 1e-9]).
    const epochs = Math.max(1, d3.max(points, (p) => p.epoch) ?? 0);
    const x = d3.scaleLinear().domain([0, epochs]).range([margin.left, width - margin.right]);
    const y = d3.scaleLinear().domain([0, d3.max(points, (p) => Math.max(p.train, p.test)) || 1]).nice()
      .range([height - margin.bottom, margin.top]);
    this.svg.selectAll('*').remove();
    this.svg.append('g').attr('transform', `translate(0,${height - margin.bottom})`).call(d3.axisBottom(x).ticks(Math.min(4, epochs)).tickFormat(d3.format('d')));
    this.svg.append('g').attr('transform', `translate(${margin.left},0)`).call(d3.axisLeft(y).ticks(3));
    for (const [key, cls] of [['train', 'pg-train-line'], ['test', 'pg-test-line']]) {
      this.svg.append('path').datum(points).attr('class', cls).attr('fill', 'none')
        .attr('d', d3.line().x((p) => x(p.epoch)).y((p) => y(p[key])));
    }
  }
}
