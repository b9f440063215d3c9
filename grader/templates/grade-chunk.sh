#!/usr/bin/env bash
# Grades one chunk of the roster: for each student, the commit they handed in (the last push to
# the default branch before their deadline, as GitHub recorded it), graded with this repository's
# hidden tests; one results.json per student under OUT/<id>/.
# Written by `grader publish --grading-repo`. Needs `gh` with GH_TOKEN able to read the students'
# repositories. Usage: grade-chunk.sh ROSTER CHUNK CHUNK_SIZE ASSIGNMENT OUT
set -euo pipefail
roster=$1 chunk=$2 size=$3 assignment=$4 out=$5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

grade_one() {
  local id=$1 repository=$2 extension=$3 branch sha at
  branch=$(gh api "repos/$repository" --jq .default_branch)
  # GitHub's own record of each push (its clock): the student cannot set it, unlike a commit's date.
  gh api --paginate "repos/$repository/activity?ref=$branch&per_page=100" > "$work/$id.json"
  IFS=$'\t' read -r sha at < <(python -m grader grading hand-in "$work/$id.json" --branch "$branch" \
    --assignment "$assignment" --extension-days "$extension")
  gh repo clone "$repository" "$work/$id" -- --quiet
  git -C "$work/$id" checkout --quiet "$sha"
  local when=()
  if [ -n "$at" ]; then when=(--submitted-at "$at"); fi
  python -m grader grade --submission "$work/$id/{{grader:exercises}}" --assignment "$assignment" "${when[@]}" \
    --extension-days "$extension" --format json --output "$out/$id/results.json"
}

mkdir -p "$out"
python -m grader grading students "$roster" --chunk "$chunk" --chunk-size "$size" > "$work/students.tsv"
failed=0
while IFS=$'\t' read -r id repository extension; do
  if ! grade_one "$id" "$repository" "$extension" < /dev/null; then
    echo "::warning::$id ($repository) could not be graded"
    failed=$((failed + 1))
  fi
done < "$work/students.tsv"
echo "chunk $chunk: $failed student(s) not graded"
