export interface Todo {
  id: number;
  title: string;
  done: boolean;
}

type Listener = (todos: readonly Todo[]) => void;

export class TodoStore {
  private todos: Todo[] = [];
  private listeners = new Set<Listener>();
  private nextId = 1;

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  add(title: string): Todo {
    const todo = { id: this.nextId++, title: title.trim(), done: false };
    this.todos = [...this.todos, todo];
    this.emit();
    return todo;
  }

  toggle(id: number): void {
    this.todos = this.todos.map((t) => (t.id === id ? { ...t, done: !t.done } : t));
    this.emit();
  }

  get remaining(): number {
    return this.todos.filter((t) => !t.done).length;
  }

  private emit(): void {
    for (const fn of this.listeners) {
      fn(this.todos);
    }
  }
}
